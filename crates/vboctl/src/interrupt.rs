//! Ctrl-C while apply changes the server: the first one stops new changes and lets those in
//! flight finish, so that the run can say what it did; a second one stops at once.

use vbo_apply::CancellationToken;

use crate::ui::Ui;

/// The exit code of a run stopped by Ctrl-C (128 + SIGINT), as shells report it.
pub(crate) const EXIT_CODE: u8 = 130;

/// Listens for Ctrl-C from now on (so that it no longer ends the process), cancelling
/// `cancel` on the first and exiting with [`EXIT_CODE`] on the second. If the signal cannot be
/// listened to, Ctrl-C keeps its default effect of ending the process.
pub(crate) fn watch(cancel: CancellationToken, ui: Ui) {
    let mut interrupts = match Interrupts::listen() {
        Ok(interrupts) => interrupts,
        Err(error) => {
            tracing::debug!("cannot listen for Ctrl-C: {error}");
            return;
        }
    };
    tokio::spawn(async move {
        if !interrupts.next().await {
            return;
        }
        cancel.cancel();
        eprintln!();
        ui.warn(
            "interrupted: no new change is started; the changes in flight finish, then the run \
             reports what was done and what was not. Press Ctrl-C again to stop at once.",
        );
        if !interrupts.next().await {
            return;
        }
        ui.warn(
            "interrupted again: stopping at once; the changes in flight may or may not have \
             been made. Run `vboctl plan` to see where the server stands, and apply again.",
        );
        std::process::exit(i32::from(EXIT_CODE));
    });
}

/// A stream of Ctrl-C presses that misses none between two waits.
struct Interrupts {
    #[cfg(unix)]
    signal: tokio::signal::unix::Signal,
}

impl Interrupts {
    fn listen() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self {
                signal: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(Self {})
        }
    }

    /// Waits for the next Ctrl-C; false when no more can come.
    async fn next(&mut self) -> bool {
        #[cfg(unix)]
        {
            self.signal.recv().await.is_some()
        }
        #[cfg(not(unix))]
        {
            tokio::signal::ctrl_c().await.is_ok()
        }
    }
}
