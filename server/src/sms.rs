//! Text messages to phones (verification codes, notices) behind the [`SmsSender`] trait.
//! There is no SMS gateway here: in development [`DevSms`] writes each message to the log
//! (and, with `MOTCUA_SMS_DIR`, to a file per phone that tests and tools read); tests of the
//! server use [`MemorySms`]. A production gateway implements the same trait.

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Mutex;

/// What sending returns: done, or why not.
pub type Sending<'a> = Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send + 'a>>;

/// Sends one text message to one phone number (canonical `0xxxxxxxxx` form).
pub trait SmsSender: Send + Sync + std::fmt::Debug {
    fn send<'a>(&'a self, phone: &'a str, text: &'a str) -> Sending<'a>;
}

/// The development sender: the log, and optionally `<dir>/<phone>.txt` (the last message).
#[derive(Debug, Clone, Default)]
pub struct DevSms {
    pub dir: Option<PathBuf>,
}

impl SmsSender for DevSms {
    fn send<'a>(&'a self, phone: &'a str, text: &'a str) -> Sending<'a> {
        Box::pin(async move {
            tracing::info!(phone, text, "SMS (development sink: no message leaves this machine)");
            if let Some(dir) = &self.dir {
                tokio::fs::create_dir_all(dir).await?;
                let name: String = phone.chars().filter(char::is_ascii_digit).collect();
                let path = dir.join(format!("{name}.txt"));
                let partial = dir.join(format!(".{name}.tmp"));
                tokio::fs::write(&partial, text).await?;
                tokio::fs::rename(&partial, &path).await?;
            }
            Ok(())
        })
    }
}

/// The test sender: keeps every message in memory.
#[derive(Debug, Default)]
pub struct MemorySms {
    sent: Mutex<HashMap<String, Vec<String>>>,
}

impl MemorySms {
    /// The messages sent to `phone`, oldest first.
    pub fn sent_to(&self, phone: &str) -> Vec<String> {
        self.sent.lock().unwrap_or_else(|e| e.into_inner()).get(phone).cloned().unwrap_or_default()
    }
}

impl SmsSender for MemorySms {
    fn send<'a>(&'a self, phone: &'a str, text: &'a str) -> Sending<'a> {
        self.sent.lock().unwrap_or_else(|e| e.into_inner()).entry(phone.to_owned()).or_default().push(text.to_owned());
        Box::pin(async { Ok(()) })
    }
}

/// The one-time code inside a verification message (six digits), if there is one.
pub fn code_in(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_ascii_digit()).find(|w| w.len() == 6).map(str::to_owned)
}
