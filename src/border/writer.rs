//! The border write queue: declarations and agencies' answers from every
//! caller are group-committed, a batch at a time, in ONE database
//! transaction with one ledger append for all of their entries, so the
//! ledger's serialized head is taken once per batch rather than once per
//! consignment. The queue is bounded: beyond it callers are asked to retry.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Weak};

use tokio::sync::{mpsc, oneshot};

use super::declaration::Declaration;
use super::plan::RiskAssessment;
use super::record::{self, AnswersStep, BatchRows, DeclarationStep, Declared, PlanView};
use super::{Border, BorderError};
use crate::store::{write_transaction, AnyConnection};

/// Jobs waiting for the writer at most.
const QUEUE_CAPACITY: usize = 4096;
/// Jobs written in one transaction at most.
const BATCH: usize = 256;

/// One write.
pub(super) enum Job {
    Declare {
        declaration: Box<Declaration>,
        key: String,
        actor: String,
    },
    Answers {
        id: String,
        token: String,
        answers: Vec<(String, Result<RiskAssessment, String>)>,
    },
}

impl Job {
    fn consignment(&self) -> Option<&str> {
        match self {
            Job::Answers { id, .. } => Some(id),
            Job::Declare { .. } => None,
        }
    }
}

/// What a write came to.
pub(super) enum Written {
    Declared(Declared),
    Revised(PlanView),
}

type Reply = oneshot::Sender<Result<Written, BorderError>>;

pub(super) struct WriteQueue {
    sender: mpsc::Sender<(Job, Reply)>,
}

impl WriteQueue {
    /// Starts the writer task (inside a tokio runtime).
    pub(super) fn start(border: Weak<Border>) -> WriteQueue {
        let (sender, receiver) = mpsc::channel(QUEUE_CAPACITY);
        tokio::spawn(write_loop(border, receiver));
        WriteQueue { sender }
    }

    pub(super) async fn write(&self, job: Job) -> Result<Written, BorderError> {
        let (reply, answer) = oneshot::channel();
        self.sender
            .try_send((job, reply))
            .map_err(|error| match error {
                mpsc::error::TrySendError::Full(_) => BorderError::Busy,
                mpsc::error::TrySendError::Closed(_) => BorderError::Stopped,
            })?;
        answer.await.map_err(|_| BorderError::Stopped)?
    }
}

async fn write_loop(border: Weak<Border>, mut receiver: mpsc::Receiver<(Job, Reply)>) {
    let mut waiting: VecDeque<(Job, Reply)> = VecDeque::new();
    loop {
        if waiting.is_empty() {
            match receiver.recv().await {
                Some(item) => waiting.push_back(item),
                None => return,
            }
        }
        while waiting.len() < BATCH * 2 {
            match receiver.try_recv() {
                Ok(item) => waiting.push_back(item),
                Err(_) => break,
            }
        }
        // One revision per consignment per transaction: a second answer
        // for the same consignment waits for the next batch.
        let mut batch = Vec::new();
        let mut later = VecDeque::new();
        let mut consignments = HashSet::new();
        while let Some(item) = waiting.pop_front() {
            let fits = batch.len() < BATCH
                && item
                    .0
                    .consignment()
                    .is_none_or(|id| consignments.insert(id.to_owned()));
            if fits {
                batch.push(item);
            } else {
                later.push_back(item);
            }
        }
        waiting = later;
        let Some(this) = border.upgrade() else { return };
        let (jobs, replies): (Vec<Job>, Vec<Reply>) = batch.into_iter().unzip();
        let count = jobs.len();
        let results = match tokio::task::spawn_blocking(move || this.write_batch(jobs)).await {
            Ok(results) => results,
            Err(error) => {
                let shared = Arc::new(BorderError::from(error));
                (0..count)
                    .map(|_| Err(BorderError::Batch(shared.clone())))
                    .collect()
            }
        };
        for (reply, result) in replies.into_iter().zip(results) {
            let _ = reply.send(result);
        }
    }
}

/// A job's first step.
enum Step {
    Declared(DeclarationStep),
    Answers(AnswersStep),
    /// The same key and declaration as an earlier job of this batch.
    SameAs(usize),
    Refused(BorderError),
}

impl Border {
    fn write_batch(&self, jobs: Vec<Job>) -> Vec<Result<Written, BorderError>> {
        let all = |error: BorderError| {
            let shared = Arc::new(error);
            jobs.iter()
                .map(|_| Err(BorderError::Batch(shared.clone())))
                .collect()
        };
        let mut conn = match self.ledger.store().get() {
            Ok(conn) => conn,
            Err(error) => return all(error.into()),
        };
        let mut attempt = 1;
        loop {
            match write_transaction(&mut conn, |conn| self.write_jobs(conn, &jobs)) {
                Ok(results) => return results,
                // Another hub wrote the same idempotency key first: read it back.
                Err(error)
                    if attempt < record::RACE_ATTEMPTS && record::is_unique_violation(&error) =>
                {
                    attempt += 1;
                }
                Err(error) => {
                    tracing::error!(%error, jobs = jobs.len(), "border writes not recorded");
                    return all(error);
                }
            }
        }
    }

    fn write_jobs(
        &self,
        conn: &mut AnyConnection,
        jobs: &[Job],
    ) -> Result<Vec<Result<Written, BorderError>>, BorderError> {
        let registry = self.registry();
        // The batch's reads, each one statement for every job.
        let declare_keys: Vec<&str> = jobs
            .iter()
            .filter_map(|job| match job {
                Job::Declare { key, .. } => Some(key.as_str()),
                Job::Answers { .. } => None,
            })
            .collect();
        let mut declared_before = record::declared_under(conn, &declare_keys)?;
        let answered: Vec<&str> = jobs.iter().filter_map(Job::consignment).collect();
        let mut locked = record::lock_consignments(conn, &answered)?;
        let mut writes = BatchRows::default();
        let mut keys: HashMap<&str, (usize, [u8; 32])> = HashMap::new();
        let mut steps = Vec::with_capacity(jobs.len());
        for (index, job) in jobs.iter().enumerate() {
            let step = match job {
                Job::Declare {
                    declaration,
                    key,
                    actor,
                } => {
                    let hash = declaration.content_hash();
                    match keys.get(key.as_str()) {
                        Some((first, seen)) if *seen == hash => Step::SameAs(*first),
                        Some(_) => Step::Refused(BorderError::Conflict(format!(
                            "idempotency key {key:?} was already used for a different declaration"
                        ))),
                        None => {
                            keys.insert(key, (index, hash));
                            refused_unless_database(
                                self.prepare_declaration(
                                    declared_before.remove(key.as_str()),
                                    declaration,
                                    key,
                                    actor,
                                    &registry,
                                )
                                .map(Step::Declared),
                            )?
                        }
                    }
                }
                Job::Answers { id, token, answers } => match locked.remove(id.as_str()) {
                    Some((row, assessments)) => refused_unless_database(
                        self.prepare_answers(
                            row,
                            assessments,
                            token,
                            answers,
                            &registry,
                            &mut writes,
                        )
                        .map(Step::Answers),
                    )?,
                    None => Step::Refused(BorderError::NotFound(format!("consignment {id}"))),
                },
            };
            steps.push(step);
        }
        let mut entries = Vec::new();
        let mut counts = Vec::with_capacity(steps.len());
        for step in &mut steps {
            let taken = match step {
                Step::Declared(DeclarationStep::New(new)) => std::mem::take(&mut new.entries),
                Step::Answers(AnswersStep::Revised(revision)) => {
                    std::mem::take(&mut revision.entries)
                }
                _ => Vec::new(),
            };
            counts.push(taken.len());
            entries.extend(taken);
        }
        let receipts = if entries.is_empty() {
            Vec::new()
        } else {
            self.ledger.append_in(conn, entries)?
        };
        let mut offset = 0;
        let mut results: Vec<Result<Written, BorderError>> = Vec::with_capacity(steps.len());
        for (step, count) in steps.into_iter().zip(counts) {
            let mine = &receipts[offset..offset + count];
            offset += count;
            let result = match step {
                Step::Declared(DeclarationStep::Existing(view)) => {
                    Ok(Written::Declared(Declared::existing(view)))
                }
                Step::Declared(DeclarationStep::New(new)) => Ok(Written::Declared(
                    Border::finish_declaration(new, mine, &mut writes)?,
                )),
                Step::Answers(AnswersStep::Unchanged(view)) => Ok(Written::Revised(view)),
                Step::Answers(AnswersStep::Revised(revision)) => Ok(Written::Revised(
                    record::finish_revision(revision, mine, &mut writes)?,
                )),
                Step::SameAs(first) => match results.get(first) {
                    Some(Ok(Written::Declared(declared))) => {
                        Ok(Written::Declared(Declared::existing(declared.view.clone())))
                    }
                    _ => Err(BorderError::Conflict(
                        "an earlier declaration with this idempotency key was refused".into(),
                    )),
                },
                Step::Refused(error) => Err(error),
            };
            results.push(result);
        }
        writes.write(conn)?;
        Ok(results)
    }
}

/// A job's own refusal stays its own; a database failure ends the batch
/// (the transaction cannot go on).
fn refused_unless_database(step: Result<Step, BorderError>) -> Result<Step, BorderError> {
    match step {
        Ok(step) => Ok(step),
        Err(
            error @ (BorderError::Database(_) | BorderError::Store(_) | BorderError::Ledger(_)),
        ) => Err(error),
        Err(error) => Ok(Step::Refused(error)),
    }
}
