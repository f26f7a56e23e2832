//! `mamori backup|contact|account …`: the records the checklist's evidence reads — backups and
//! their restore tests, contacts for an incident, accounts and their holders.

use clap::{Args, Subcommand, ValueEnum};
use mamori_i18n::{Lang, t, tf};
use mamori_model::{Account, AccountPrivilege, Backup, BackupMedium, Contact, Id};
use mamori_store::Store;

use crate::cli::{CliResult, Failure, Format, emit};

#[derive(Args)]
pub struct ListArgs {
    /// 出力形式 / Output format
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum MediumArg {
    Online,
    Offline,
    Immutable,
    Cloud,
}

#[derive(Subcommand)]
pub enum BackupCmd {
    /// バックアップの一覧 / List backups
    List(ListArgs),
    /// バックアップを登録 / Record a backup
    Add {
        /// 名称 / Name
        name: String,
        /// 保存先の種類 / Where the copy lives
        #[arg(long, value_enum)]
        medium: MediumArg,
        /// 対象（電子カルテ DB 等） / What is backed up
        #[arg(long)]
        covers: Option<String>,
        /// 保存先の資産番号（mamori番号） / Asset holding the copy
        #[arg(long)]
        asset: Option<Id>,
        /// 保護対象と同じ認証情報で到達できる / Reachable with the same credentials as what it protects
        #[arg(long)]
        same_credentials: bool,
        /// 最終成功日 YYYY-MM-DD / Last successful backup
        #[arg(long)]
        last_success: Option<String>,
        /// 備考 / Notes
        #[arg(long)]
        notes: Option<String>,
    },
    /// 復旧（リストア）テストの実施を記録 / Record a restore test
    RestoreTest {
        id: Id,
        /// 実施日 YYYY-MM-DD（既定: 今日） / Date (default: today in Japan)
        #[arg(long)]
        date: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum ContactCmd {
    /// 連絡先の一覧 / List contacts
    List(ListArgs),
    /// 連絡先を登録（厚生労働省、警察、保守事業者、院内の責任者 等） / Record a contact
    Add {
        /// 組織・役割 / Organisation or role
        organization: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        phone: Option<String>,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        notes: Option<String>,
    },
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum PrivilegeArg {
    Admin,
    User,
    Service,
}

#[derive(Subcommand)]
pub enum AccountCmd {
    /// アカウントの一覧 / List accounts
    List(ListArgs),
    /// アカウントを登録 / Record an account
    Add {
        username: String,
        /// システム（電子カルテ、Windows ドメイン 等） / The system it belongs to
        #[arg(long)]
        system: Option<String>,
        #[arg(long, value_enum, default_value = "user")]
        privilege: PrivilegeArg,
        /// 複数人で共用 / Shared by several people
        #[arg(long)]
        shared: bool,
        /// 利用者 / The person it belongs to
        #[arg(long)]
        person: Option<String>,
        /// 同じ認証情報が有効な資産（mamori番号、複数可） / Assets where the same credential is valid
        #[arg(long)]
        asset: Vec<Id>,
    },
    /// 無効化 / Disable
    Disable { id: Id },
    /// 有効化 / Enable
    Enable { id: Id },
    /// 利用者が退職したことを記録 / Record that the holder has left
    Left { id: Id },
}

fn fail(lang: Lang) -> impl Fn(mamori_store::StoreError) -> Failure {
    move |e| Failure::store(lang, &e)
}

fn opt(s: &Option<String>) -> String {
    s.clone().unwrap_or_default()
}

pub async fn backup(store: &Store, lang: Lang, who: &str, cmd: &BackupCmd) -> CliResult {
    match cmd {
        BackupCmd::List(a) => {
            let list = store.list_backups().await.map_err(fail(lang))?;
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|b| {
                    vec![
                        b.id.to_string(),
                        b.name.clone(),
                        t(lang, &b.medium.label_key()).to_owned(),
                        opt(&b.covers),
                        b.asset_id.map(|x| x.to_string()).unwrap_or_default(),
                        t(lang, if b.same_credentials { "checklist_cli.yes" } else { "checklist_cli.no" }).to_owned(),
                        opt(&b.last_success),
                        opt(&b.last_restore_test),
                    ]
                })
                .collect();
            let header = ["ID", t(lang, "records.name"), t(lang, "records.medium"), t(lang, "records.covers"), t(lang, "records.asset"), t(lang, "records.same_credentials"), t(lang, "records.last_success"), t(lang, "records.restore_test")];
            emit(a.format, &header, &rows, &list)
        }
        BackupCmd::Add { name, medium, covers, asset, same_credentials, last_success, notes } => {
            let medium = match medium {
                MediumArg::Online => BackupMedium::Online,
                MediumArg::Offline => BackupMedium::Offline,
                MediumArg::Immutable => BackupMedium::Immutable,
                MediumArg::Cloud => BackupMedium::Cloud,
            };
            let b = Backup {
                id: 0,
                name: name.clone(),
                covers: covers.clone(),
                medium,
                asset_id: *asset,
                same_credentials: *same_credentials,
                last_success: last_success.clone(),
                last_restore_test: None,
                notes: notes.clone(),
            };
            let b = store.create_backup(who, &b).await.map_err(fail(lang))?;
            println!("{}", tf(lang, "records.backup_added", &[("id", &b.id), ("name", &b.name)]));
            Ok(())
        }
        BackupCmd::RestoreTest { id, date } => {
            let date = date.clone().unwrap_or_else(mamori_web::today_jst);
            store.record_restore_test(who, *id, &date).await.map_err(fail(lang))?;
            println!("{}", tf(lang, "records.restore_recorded", &[("id", id), ("date", &date)]));
            Ok(())
        }
    }
}

pub async fn contact(store: &Store, lang: Lang, who: &str, cmd: &ContactCmd) -> CliResult {
    match cmd {
        ContactCmd::List(a) => {
            let list = store.list_contacts().await.map_err(fail(lang))?;
            let rows: Vec<Vec<String>> =
                list.iter().map(|c| vec![c.id.to_string(), c.organization.clone(), opt(&c.name), opt(&c.phone), opt(&c.email)]).collect();
            let header = ["ID", t(lang, "field.organization"), t(lang, "records.name"), t(lang, "records.phone"), t(lang, "records.email")];
            emit(a.format, &header, &rows, &list)
        }
        ContactCmd::Add { organization, name, phone, email, notes } => {
            let c = Contact { id: 0, organization: organization.clone(), name: name.clone(), phone: phone.clone(), email: email.clone(), notes: notes.clone() };
            let c = store.create_contact(who, &c).await.map_err(fail(lang))?;
            println!("{}", tf(lang, "records.contact_added", &[("id", &c.id), ("name", &c.organization)]));
            Ok(())
        }
    }
}

pub async fn account(store: &Store, lang: Lang, who: &str, cmd: &AccountCmd) -> CliResult {
    match cmd {
        AccountCmd::List(a) => {
            let list = store.list_accounts().await.map_err(fail(lang))?;
            let yes_no = |b: bool| t(lang, if b { "checklist_cli.yes" } else { "checklist_cli.no" }).to_owned();
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|x| {
                    vec![
                        x.id.to_string(),
                        x.username.clone(),
                        opt(&x.system),
                        x.privilege.code().to_owned(),
                        yes_no(x.shared),
                        opt(&x.person),
                        yes_no(x.holder_left),
                        yes_no(x.enabled),
                        opt(&x.last_used),
                    ]
                })
                .collect();
            let header = ["ID", t(lang, "field.username"), t(lang, "records.system"), t(lang, "records.privilege"), t(lang, "records.shared"), t(lang, "records.person"), t(lang, "records.left"), t(lang, "records.enabled"), t(lang, "records.last_used")];
            emit(a.format, &header, &rows, &list)
        }
        AccountCmd::Add { username, system, privilege, shared, person, asset } => {
            let a = Account {
                id: 0,
                username: username.clone(),
                system: system.clone(),
                privilege: match privilege {
                    PrivilegeArg::Admin => AccountPrivilege::Admin,
                    PrivilegeArg::User => AccountPrivilege::User,
                    PrivilegeArg::Service => AccountPrivilege::Service,
                },
                shared: *shared,
                person: person.clone(),
                holder_left: false,
                enabled: true,
                last_used: None,
                asset_ids: asset.clone(),
                notes: None,
            };
            let a = store.create_account(who, &a).await.map_err(fail(lang))?;
            println!("{}", tf(lang, "records.account_added", &[("id", &a.id), ("name", &a.username)]));
            Ok(())
        }
        AccountCmd::Disable { id } | AccountCmd::Enable { id } | AccountCmd::Left { id } => {
            let (enabled, left) = match cmd {
                AccountCmd::Disable { .. } => (Some(false), None),
                AccountCmd::Enable { .. } => (Some(true), None),
                _ => (None, Some(true)),
            };
            store.update_account_status(who, *id, enabled, left).await.map_err(fail(lang))?;
            println!("{}", tf(lang, "records.account_updated", &[("id", id)]));
            Ok(())
        }
    }
}
