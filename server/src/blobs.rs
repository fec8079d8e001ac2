//! Content-addressed file storage behind a trait: the same bytes are stored once, under
//! their SHA-256. The default is a local directory; a deployment with several machines
//! implements [`BlobStore`] over shared object storage.

use std::path::{Path, PathBuf};

use anyhow::Context;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::seed::hex;

/// A boxed future, so the store can be chosen at run time (`Arc<dyn BlobStore>`).
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where attachment bytes live.
pub trait BlobStore: Send + Sync + std::fmt::Debug {
    /// Moves the finished file at `staged` into the store under `sha256` (a no-op if these
    /// bytes are already stored).
    fn put_file<'a>(&'a self, sha256: &'a str, staged: &'a Path) -> BoxFuture<'a, anyhow::Result<()>>;
    /// The stored bytes.
    fn get<'a>(&'a self, sha256: &'a str) -> BoxFuture<'a, anyhow::Result<Option<Vec<u8>>>>;
    /// A private scratch path for the upload `id` (partial bytes of a resumable upload).
    fn staging_path(&self, id: &str) -> PathBuf;
}

/// Blobs in `<root>/<first two hex digits>/<sha256>`, uploads staged in `<root>/staging`.
#[derive(Debug, Clone)]
pub struct LocalBlobStore {
    root: PathBuf,
}

impl LocalBlobStore {
    pub async fn open(root: impl Into<PathBuf>) -> anyhow::Result<LocalBlobStore> {
        let root = root.into();
        tokio::fs::create_dir_all(root.join("staging"))
            .await
            .with_context(|| format!("creating the blob directory {}", root.display()))?;
        Ok(LocalBlobStore { root })
    }

    fn path(&self, sha256: &str) -> PathBuf {
        self.root.join(&sha256[..2.min(sha256.len())]).join(sha256)
    }
}

impl BlobStore for LocalBlobStore {
    fn put_file<'a>(&'a self, sha256: &'a str, staged: &'a Path) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(self.put_file_inner(sha256, staged))
    }

    fn get<'a>(&'a self, sha256: &'a str) -> BoxFuture<'a, anyhow::Result<Option<Vec<u8>>>> {
        Box::pin(async move {
            match tokio::fs::read(self.path(sha256)).await {
                Ok(bytes) => Ok(Some(bytes)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e.into()),
            }
        })
    }

    fn staging_path(&self, id: &str) -> PathBuf {
        self.root.join("staging").join(format!("{id}.part"))
    }
}

impl LocalBlobStore {
    async fn put_file_inner(&self, sha256: &str, staged: &Path) -> anyhow::Result<()> {
        let target = self.path(sha256);
        if tokio::fs::try_exists(&target).await? {
            tokio::fs::remove_file(staged).await.ok();
            return Ok(());
        }
        if let Some(dir) = target.parent() {
            tokio::fs::create_dir_all(dir).await?;
        }
        // Same file system: an atomic rename, so a reader never sees half a file.
        tokio::fs::rename(staged, &target).await.context("moving an upload into the blob store")?;
        Ok(())
    }
}

/// Writes `chunk` at `offset` of the staged file (creating it), so a repeated chunk after
/// a lost response overwrites the same bytes rather than appending them twice.
pub async fn write_at(path: &Path, offset: u64, chunk: &[u8]) -> anyhow::Result<()> {
    use tokio::io::AsyncSeekExt;
    let mut file = tokio::fs::OpenOptions::new().create(true).write(true).truncate(false).open(path).await?;
    file.set_len(offset).await?;
    file.seek(std::io::SeekFrom::Start(offset)).await?;
    file.write_all(chunk).await?;
    file.sync_data().await?;
    Ok(())
}

/// SHA-256 (hex) and the first bytes of a staged file.
pub async fn digest_file(path: &Path) -> anyhow::Result<(String, Vec<u8>)> {
    use tokio::io::AsyncReadExt;
    let mut file = tokio::fs::File::open(path).await?;
    let mut hasher = Sha256::new();
    let mut head = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        if head.len() < 16 {
            head.extend_from_slice(&buf[..n.min(16 - head.len())]);
        }
        hasher.update(&buf[..n]);
    }
    Ok((hex(&hasher.finalize()), head))
}

/// The type of a file judged by its first bytes (never by its name): PDF, JPEG or PNG.
pub fn sniff(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if head.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some("image/png")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_by_content() {
        assert_eq!(sniff(b"%PDF-1.7\n"), Some("application/pdf"));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(sniff(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0]), Some("image/png"));
        assert_eq!(sniff(b"MZ\x90\x00 an exe named scan.pdf"), None);
        assert_eq!(sniff(b""), None);
    }
}
