//! Files uploaded to the import wizard, held in memory between its steps (never on disk), and
//! the imports running in the background.
//!
//! An upload belongs to the user who sent it: every lookup names the user, and another user's
//! token is "not found". Uploads expire an hour after they arrive (a running import is kept until
//! it ends); each user holds at most [`MAX_PER_USER`] at a time and all of them together at most
//! [`Uploads::budget`] bytes.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mamori_model::{Id, LedgerField, SourceKind};
use mamori_store::{ImportControl, ImportPlan, StoreError};

/// How long an upload is kept.
pub(crate) const UPLOAD_TTL: Duration = Duration::from_secs(3600);

/// Uploads one user may hold at a time.
pub(crate) const MAX_PER_USER: usize = 3;

/// Where a background import stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Progress {
    /// `wait`, `read`, `match` or `write`.
    pub phase: &'static str,
    pub done: u64,
    pub total: u64,
}

/// One import running (or finished) in the background.
pub(crate) struct Job {
    cancel: AtomicBool,
    progress: Mutex<Progress>,
    outcome: Mutex<Option<Result<ImportPlan, StoreError>>>,
}

impl Job {
    pub fn new() -> Job {
        Job {
            cancel: AtomicBool::new(false),
            progress: Mutex::new(Progress { phase: "wait", done: 0, total: 0 }),
            outcome: Mutex::new(None),
        }
    }

    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    pub fn cancel_requested(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    pub fn set_phase(&self, phase: &'static str) {
        let mut p = self.progress.lock().unwrap_or_else(|e| e.into_inner());
        *p = Progress { phase, done: 0, total: 0 };
    }

    pub fn progress_now(&self) -> Progress {
        *self.progress.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn finish(&self, outcome: Result<ImportPlan, StoreError>) {
        *self.outcome.lock().unwrap_or_else(|e| e.into_inner()) = Some(outcome);
    }

    pub fn finished(&self) -> bool {
        self.outcome.lock().unwrap_or_else(|e| e.into_inner()).is_some()
    }

    /// Runs `f` over the outcome, once there is one.
    pub fn with_outcome<R>(&self, f: impl FnOnce(&Result<ImportPlan, StoreError>) -> R) -> Option<R> {
        self.outcome.lock().unwrap_or_else(|e| e.into_inner()).as_ref().map(f)
    }
}

impl ImportControl for Job {
    fn progress(&self, phase: &'static str, done: u64, total: u64) {
        let mut p = self.progress.lock().unwrap_or_else(|e| e.into_inner());
        *p = Progress { phase, done, total };
    }

    fn cancelled(&self) -> bool {
        self.cancel_requested()
    }
}

/// What the wizard knows about one upload.
#[derive(Clone)]
pub(crate) struct Upload {
    pub user_id: Id,
    pub file_name: String,
    /// `None` once the import started (the bytes are then the job's).
    pub bytes: Option<Arc<Vec<u8>>>,
    pub format: Option<SourceKind>,
    pub target_asset: Option<Id>,
    /// Ledger column overrides chosen on the mapping step.
    pub map: Vec<(String, Option<LedgerField>)>,
    /// True for ledgers (the wizard has a mapping step).
    pub ledger: bool,
    pub job: Option<Arc<Job>>,
    created: Instant,
}

impl Upload {
    /// An upload that is not kept (to read a file before deciding to keep it).
    pub fn blank(user_id: Id, file_name: String) -> Upload {
        Upload {
            user_id,
            file_name,
            bytes: None,
            format: None,
            target_asset: None,
            map: Vec::new(),
            ledger: false,
            job: None,
            created: Instant::now(),
        }
    }

    fn size(&self) -> usize {
        self.bytes.as_ref().map_or(0, |b| b.len())
    }

    fn running(&self) -> bool {
        self.job.as_ref().is_some_and(|j| !j.finished())
    }
}

/// Why an upload was not kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The user already has [`MAX_PER_USER`] uploads with running imports.
    TooMany,
    /// All uploads together would exceed the budget.
    Busy,
}

pub(crate) struct Uploads {
    budget: usize,
    map: Mutex<HashMap<String, Upload>>,
}

fn random_token() -> String {
    use rand::RngCore;
    let mut b = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

impl Uploads {
    /// `budget`: most bytes held for all users together.
    pub fn new(budget: usize) -> Uploads {
        Uploads { budget, map: Mutex::new(HashMap::new()) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Upload>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn sweep(map: &mut HashMap<String, Upload>) {
        map.retain(|_, u| u.running() || u.created.elapsed() < UPLOAD_TTL);
    }

    /// Keeps a new upload and returns its token. The user's oldest upload gives way when they
    /// hold [`MAX_PER_USER`] already (never one whose import is running).
    pub fn insert(
        &self,
        user_id: Id,
        file_name: String,
        bytes: Vec<u8>,
        format: Option<SourceKind>,
        target_asset: Option<Id>,
        ledger: bool,
    ) -> Result<String, Refusal> {
        let mut map = self.lock();
        Self::sweep(&mut map);
        let mut mine: Vec<(Instant, String, bool)> = map
            .iter()
            .filter(|(_, u)| u.user_id == user_id)
            .map(|(k, u)| (u.created, k.clone(), u.running()))
            .collect();
        mine.sort();
        while mine.len() >= MAX_PER_USER {
            let Some(pos) = mine.iter().position(|(_, _, running)| !running) else {
                return Err(Refusal::TooMany);
            };
            let (_, key, _) = mine.remove(pos);
            map.remove(&key);
        }
        let held: usize = map.values().map(Upload::size).sum();
        if held.saturating_add(bytes.len()) > self.budget {
            return Err(Refusal::Busy);
        }
        let token = random_token();
        map.insert(
            token.clone(),
            Upload {
                user_id,
                file_name,
                bytes: Some(Arc::new(bytes)),
                format,
                target_asset,
                map: Vec::new(),
                ledger,
                job: None,
                created: Instant::now(),
            },
        );
        Ok(token)
    }

    /// The user's upload (a copy; the bytes are shared).
    pub fn get(&self, token: &str, user_id: Id) -> Option<Upload> {
        let mut map = self.lock();
        Self::sweep(&mut map);
        map.get(token).filter(|u| u.user_id == user_id).cloned()
    }

    /// Changes the user's upload; false when there is none.
    pub fn update(&self, token: &str, user_id: Id, f: impl FnOnce(&mut Upload)) -> bool {
        let mut map = self.lock();
        match map.get_mut(token).filter(|u| u.user_id == user_id) {
            Some(u) => {
                f(u);
                true
            }
            None => false,
        }
    }

    /// Hands the upload's bytes to a new job. `None` when there is no such upload or its import
    /// has started already.
    pub fn start(&self, token: &str, user_id: Id) -> Option<(Upload, Arc<Vec<u8>>, Arc<Job>)> {
        let mut map = self.lock();
        Self::sweep(&mut map);
        let u = map.get_mut(token).filter(|u| u.user_id == user_id && u.job.is_none())?;
        let bytes = u.bytes.take()?;
        let job = Arc::new(Job::new());
        u.job = Some(job.clone());
        // The result stays viewable for the upload's lifetime, counted from the start.
        u.created = Instant::now();
        Some((u.clone(), bytes, job))
    }

    /// Forgets the user's upload.
    pub fn remove(&self, token: &str, user_id: Id) {
        let mut map = self.lock();
        if map.get(token).is_some_and(|u| u.user_id == user_id) {
            map.remove(token);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_belong_to_their_user_and_are_bounded() {
        let u = Uploads::new(100);
        let a = u.insert(1, "a.csv".into(), vec![0; 10], None, None, true).unwrap_or_default();
        assert!(u.get(&a, 1).is_some());
        assert!(u.get(&a, 2).is_none(), "another user's token is not found");
        assert!(!u.update(&a, 2, |x| x.ledger = false));
        u.remove(&a, 2);
        assert!(u.get(&a, 1).is_some(), "another user cannot remove it");
        // The oldest gives way.
        let b = u.insert(1, "b.csv".into(), vec![0; 10], None, None, true).unwrap_or_default();
        let c = u.insert(1, "c.csv".into(), vec![0; 10], None, None, true).unwrap_or_default();
        let d = u.insert(1, "d.csv".into(), vec![0; 10], None, None, true).unwrap_or_default();
        assert!(u.get(&a, 1).is_none());
        for t in [&b, &c, &d] {
            assert!(u.get(t, 1).is_some());
        }
        // The budget holds for everyone together.
        assert_eq!(u.insert(2, "big".into(), vec![0; 80], None, None, false), Err(Refusal::Busy));
        // A started upload hands over its bytes once.
        let started = u.start(&b, 1);
        assert!(started.is_some());
        assert!(u.start(&b, 1).is_none());
        assert!(u.get(&b, 1).is_some_and(|x| x.bytes.is_none() && x.job.is_some()));
    }
}
