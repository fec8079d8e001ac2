//! Content-addressed file storage behind a trait: the same bytes are stored once, under
//! their SHA-256. The default is a local directory; a deployment with several machines
//! implements [`BlobStore`] over shared object storage.

use std::path::{Path, PathBuf};

use anyhow::Context;
use tokio::io::AsyncWriteExt;

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
    /// Moves the file of `sha256` aside (the first step of deleting it); returns where it
    /// went, or `None` if there was no file. Follow with [`BlobStore::restore`] when the
    /// blob turned out to be wanted after all, else [`BlobStore::purge`].
    fn trash<'a>(&'a self, sha256: &'a str) -> BoxFuture<'a, anyhow::Result<Option<PathBuf>>>;
    /// Puts a trashed file back, unless the blob was stored again meanwhile.
    fn restore<'a>(&'a self, sha256: &'a str, trashed: &'a Path) -> BoxFuture<'a, anyhow::Result<()>>;
    /// Deletes a trashed file.
    fn purge<'a>(&'a self, trashed: &'a Path) -> BoxFuture<'a, anyhow::Result<()>>;
    /// Free bytes left for new files (`None` where it cannot be told).
    fn free_bytes(&self) -> Option<u64>;
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

    fn trash<'a>(&'a self, sha256: &'a str) -> BoxFuture<'a, anyhow::Result<Option<PathBuf>>> {
        Box::pin(async move {
            let trashed = self.root.join("staging").join(format!("{sha256}.trash-{}", uuid::Uuid::new_v4().simple()));
            match tokio::fs::rename(self.path(sha256), &trashed).await {
                Ok(()) => Ok(Some(trashed)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e.into()),
            }
        })
    }

    fn restore<'a>(&'a self, sha256: &'a str, trashed: &'a Path) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            let target = self.path(sha256);
            if tokio::fs::try_exists(&target).await? {
                tokio::fs::remove_file(trashed).await?;
            } else {
                tokio::fs::rename(trashed, &target).await?;
                sync_dir(target.parent()).await?;
            }
            Ok(())
        })
    }

    fn purge<'a>(&'a self, trashed: &'a Path) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            match tokio::fs::remove_file(trashed).await {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
                _ => Ok(()),
            }
        })
    }

    fn free_bytes(&self) -> Option<u64> {
        let stats = rustix::fs::statvfs(&self.root).ok()?;
        Some(stats.f_bavail.saturating_mul(stats.f_frsize))
    }
}

impl LocalBlobStore {
    /// Always renames the staged file over the target (never "already there, drop mine"):
    /// with the janitor's trash-then-recheck deletion this leaves the file in place
    /// whatever the interleaving. The file and its directory are synced before returning,
    /// so an answered upload survives a crash.
    async fn put_file_inner(&self, sha256: &str, staged: &Path) -> anyhow::Result<()> {
        let target = self.path(sha256);
        if let Some(dir) = target.parent() {
            tokio::fs::create_dir_all(dir).await?;
        }
        tokio::fs::File::open(staged).await?.sync_all().await?;
        // Same file system: an atomic rename, so a reader never sees half a file.
        tokio::fs::rename(staged, &target).await.context("moving an upload into the blob store")?;
        sync_dir(target.parent()).await
    }
}

/// Makes a rename in `dir` durable.
async fn sync_dir(dir: Option<&Path>) -> anyhow::Result<()> {
    if let Some(dir) = dir {
        tokio::fs::File::open(dir).await?.sync_all().await?;
    }
    Ok(())
}

/// Writes `bytes` to a new file at `path` (its folder created) and syncs it.
pub async fn write_new(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir).await?;
    }
    let mut file = tokio::fs::File::create(path).await?;
    file.write_all(bytes).await?;
    file.sync_data().await?;
    Ok(())
}

/// The type of a file judged by its first bytes (never by its name): PDF, JPEG, PNG or
/// WebP. The shared rule: the phone checks a file with it when it is attached.
pub fn sniff(head: &[u8]) -> Option<&'static str> {
    motcua_domain::files::sniff(head)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_by_content() {
        assert_eq!(sniff(b"%PDF-1.7\n"), Some("application/pdf"));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(sniff(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0]), Some("image/png"));
        assert_eq!(sniff(b"RIFF\x10\0\0\0WEBPVP8L"), Some("image/webp"));
        assert_eq!(sniff(b"\0\0\0\x18ftypheic\0\0\0\0"), None);
        assert_eq!(sniff(b"MZ\x90\x00 an exe named scan.pdf"), None);
        assert_eq!(sniff(b""), None);
    }
}
