//! A C2SP tlog-witness of our own, written to the spec for the tests: it
//! serves `POST /add-checkpoint` on an ephemeral port for one log (origin
//! and key), keeps the latest size and root it cosigned, and answers every
//! case the spec defines.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use actix_web::{web, App, HttpResponse, HttpServer};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use tellonce::ledger::checkpoint::{cosign, verify_note, Checkpoint, SignedNote};
use tellonce::ledger::merkle::{empty_root, verify_consistency, Hash};
use tellonce::ledger::{KeyAlgorithm, NoteSigner, NoteVerifier};

/// What the witness holds.
pub struct WitnessState {
    pub origin: String,
    pub log_key: NoteVerifier,
    pub key: NoteSigner,
    /// The latest checkpoint it cosigned: (size, root).
    pub latest: Option<(u64, Hash)>,
    /// Requests answered, by status.
    pub answers: Vec<u16>,
}

/// A running witness.
pub struct TestWitness {
    pub url: String,
    pub vkey: String,
    pub state: Arc<Mutex<WitnessState>>,
    handle: actix_web::dev::ServerHandle,
}

impl TestWitness {
    pub async fn start(name: &str, origin: &str, log_key: NoteVerifier) -> TestWitness {
        let key = NoteSigner::generate(name, KeyAlgorithm::Cosignature).unwrap();
        let vkey = key.verifier().to_vkey();
        let state = Arc::new(Mutex::new(WitnessState {
            origin: origin.to_string(),
            log_key,
            key,
            latest: None,
            answers: Vec::new(),
        }));
        let data = web::Data::new(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/add-checkpoint", web::post().to(add_checkpoint))
        })
        .workers(1)
        .bind("127.0.0.1:0")
        .unwrap();
        let addr = server.addrs()[0];
        let running = server.run();
        let handle = running.handle();
        tokio::spawn(running);
        TestWitness {
            url: format!("http://{addr}"),
            vkey,
            state,
            handle,
        }
    }

    pub fn latest_size(&self) -> Option<u64> {
        self.state.lock().unwrap().latest.map(|(size, _)| size)
    }

    pub async fn stop(&self) {
        self.handle.stop(true).await;
    }
}

fn answer(state: &mut WitnessState, status: u16, body: String, content_type: &str) -> HttpResponse {
    state.answers.push(status);
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap())
        .content_type(content_type)
        .body(body)
}

/// A decimal with no leading zeros (but `0`).
fn size_of(text: &str) -> Option<u64> {
    (text == "0" || !text.starts_with('0'))
        .then(|| text.parse().ok())
        .flatten()
}

async fn add_checkpoint(state: web::Data<Arc<Mutex<WitnessState>>>, body: String) -> HttpResponse {
    let mut state = state.lock().unwrap();
    let plain = "text/plain; charset=utf-8";
    // old size line, proof lines, an empty line, the checkpoint.
    let Some((head, note)) = body.split_once("\n\n") else {
        return answer(
            &mut state,
            400,
            "no empty line before the checkpoint\n".into(),
            plain,
        );
    };
    let mut lines = head.split('\n');
    let Some(old) = lines
        .next()
        .and_then(|l| l.strip_prefix("old "))
        .and_then(size_of)
    else {
        return answer(
            &mut state,
            400,
            "the first line must be `old <size>`\n".into(),
            plain,
        );
    };
    let mut proof: Vec<Hash> = Vec::new();
    for line in lines {
        match BASE64
            .decode(line)
            .ok()
            .and_then(|b| <Hash>::try_from(b.as_slice()).ok())
        {
            Some(hash) => proof.push(hash),
            None => {
                return answer(
                    &mut state,
                    400,
                    "a proof line is not a base64 hash\n".into(),
                    plain,
                )
            }
        }
    }
    if proof.len() > 63 {
        return answer(&mut state, 400, "more than 63 proof lines\n".into(), plain);
    }
    let Ok(parsed) = SignedNote::parse(note) else {
        return answer(
            &mut state,
            400,
            "the checkpoint is not a signed note\n".into(),
            plain,
        );
    };
    let Ok(body) = Checkpoint::parse_body(&parsed.body) else {
        return answer(
            &mut state,
            400,
            "the note is not a checkpoint\n".into(),
            plain,
        );
    };
    if body.origin != state.origin {
        return answer(&mut state, 404, "unknown origin\n".into(), plain);
    }
    let checkpoint = match verify_note(note, &state.log_key, None) {
        Ok(checkpoint) => checkpoint,
        Err(_) => {
            return answer(
                &mut state,
                403,
                "no valid signature by the log's key\n".into(),
                plain,
            )
        }
    };
    if old > checkpoint.size {
        return answer(
            &mut state,
            400,
            "old size beyond the checkpoint\n".into(),
            plain,
        );
    }
    let (held, held_root) = state.latest.unwrap_or((0, empty_root()));
    if old != held {
        return answer(&mut state, 409, format!("{held}\n"), "text/x.tlog.size");
    }
    if checkpoint.size == 0 && checkpoint.root != empty_root() {
        return answer(
            &mut state,
            422,
            "size 0 with a root that is not the empty tree's\n".into(),
            plain,
        );
    }
    let consistent = if old == 0 {
        proof.is_empty()
    } else if old == checkpoint.size {
        checkpoint.root == held_root && proof.is_empty()
    } else {
        verify_consistency(old, checkpoint.size, &held_root, &checkpoint.root, &proof).is_ok()
    };
    if !consistent {
        return answer(
            &mut state,
            422,
            "not consistent with what I cosigned\n".into(),
            plain,
        );
    }
    state.latest = Some((checkpoint.size, checkpoint.root));
    let line = cosign(&parsed.body, &state.key, 1_800_000_000);
    answer(&mut state, 200, format!("{line}\n"), plain)
}
