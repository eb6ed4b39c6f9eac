//! How far a running import has come, on stderr: a bar redrawn in place on
//! a terminal; elsewhere (logs, CI) a plain line now and then, since a
//! redrawn line is noise in a file.

use std::io::{IsTerminal as _, Write as _};
use std::time::{Duration, Instant};

use server::api::imports::Import;

/// Between plain lines when stderr is not a terminal.
const LINE_EVERY: Duration = Duration::from_secs(10);
const BAR_WIDTH: usize = 30;

pub struct Progress {
    terminal: bool,
    last_line: Option<(Instant, i64)>,
    drawn: bool,
}

impl Progress {
    pub fn new() -> Progress {
        Progress {
            terminal: std::io::stderr().is_terminal(),
            last_line: None,
            drawn: false,
        }
    }

    pub fn show(&mut self, import: &Import) {
        let mut stderr = std::io::stderr().lock();
        let counts = format!(
            "{}/{} rows, {} failed",
            import.processed, import.total_rows, import.failed
        );
        if self.terminal {
            let total = import.total_rows.max(1) as f64;
            let done = (import.processed as f64 / total).clamp(0.0, 1.0);
            let filled = (done * BAR_WIDTH as f64).round() as usize;
            let _ = write!(
                stderr,
                "\r\x1b[2K[{}{}] {:>3.0}%  {counts}  {}",
                "#".repeat(filled),
                "-".repeat(BAR_WIDTH - filled),
                done * 100.0,
                import.status,
            );
            self.drawn = true;
        } else {
            let due = match self.last_line {
                None => true,
                Some((at, processed)) => {
                    at.elapsed() >= LINE_EVERY && processed != import.processed
                }
            };
            if due {
                let _ = writeln!(stderr, "import {}: {}, {counts}", import.id, import.status);
                self.last_line = Some((Instant::now(), import.processed));
            }
        }
        let _ = stderr.flush();
    }

    /// Ends the bar's line so what follows starts on its own.
    pub fn finish(&mut self) {
        if self.drawn {
            eprintln!();
            self.drawn = false;
        }
    }
}
