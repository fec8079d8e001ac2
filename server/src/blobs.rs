//! Content-addressed file storage behind a trait: the same bytes are stored once, under
//! their SHA-256, with the chunks of unfinished resumable uploads beside them. Two
//! implementations: a local directory (the embedded default) and S3-compatible object
//! storage (`MOTCUA_BLOB_URL=s3://bucket[/prefix]`), which every process on every machine
//! reaches. Files being checked (an upload assembled, a photo cleaned, a thumbnail) are
//! per-request scratch files on the local disk in both cases.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A boxed future, so the store can be chosen at run time (`Arc<dyn BlobStore>`).
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Most entries one listing returns (listings serve checks and tests, never requests).
pub const MAX_LISTED: usize = 10_000;

/// Where attachment bytes live.
pub trait BlobStore: Send + Sync + std::fmt::Debug {
    /// Moves the finished file at `staged` (a scratch file, see [`BlobStore::staging_path`])
    /// into the store under `sha256`. Always overwrites: the bytes are the same, and the
    /// janitor's trash-then-recheck deletion relies on the uploader's copy landing.
    fn put_file<'a>(&'a self, sha256: &'a str, staged: &'a Path) -> BoxFuture<'a, anyhow::Result<()>>;
    /// The stored bytes.
    fn get<'a>(&'a self, sha256: &'a str) -> BoxFuture<'a, anyhow::Result<Option<Vec<u8>>>>;
    /// The stored bytes in `range` (which the caller bounded by the recorded size).
    fn get_range<'a>(&'a self, sha256: &'a str, range: Range<u64>) -> BoxFuture<'a, anyhow::Result<Option<Bytes>>>;
    /// A private local scratch path for `id` (a file being assembled or checked by this
    /// request; never shared between processes).
    fn staging_path(&self, id: &str) -> PathBuf;
    /// Stores one accepted chunk of the unfinished upload `upload` under `name` (reachable
    /// from every process sharing the store).
    fn put_chunk<'a>(&'a self, upload: &'a str, name: &'a str, bytes: Bytes) -> BoxFuture<'a, anyhow::Result<()>>;
    /// A chunk stored by [`BlobStore::put_chunk`], or `None` if it is gone.
    fn get_chunk<'a>(&'a self, upload: &'a str, name: &'a str) -> BoxFuture<'a, anyhow::Result<Option<Bytes>>>;
    /// Deletes one chunk (a no-op if it is gone).
    fn delete_chunk<'a>(&'a self, upload: &'a str, name: &'a str) -> BoxFuture<'a, anyhow::Result<()>>;
    /// Deletes every chunk of `upload`.
    fn delete_chunks<'a>(&'a self, upload: &'a str) -> BoxFuture<'a, anyhow::Result<()>>;
    /// The names of the chunks stored for `upload` (at most [`MAX_LISTED`]).
    fn list_chunks<'a>(&'a self, upload: &'a str) -> BoxFuture<'a, anyhow::Result<Vec<String>>>;
    /// The SHA-256 of stored blobs (at most [`MAX_LISTED`]).
    fn list_blobs(&self) -> BoxFuture<'_, anyhow::Result<Vec<String>>>;
    /// Moves the file of `sha256` aside (the first step of deleting it); returns where it
    /// went, or `None` if there was no file. Follow with [`BlobStore::restore`] when the
    /// blob turned out to be wanted after all, else [`BlobStore::purge`].
    fn trash<'a>(&'a self, sha256: &'a str) -> BoxFuture<'a, anyhow::Result<Option<String>>>;
    /// Puts a trashed file back (the same bytes: content addressing makes an overwrite of
    /// a copy stored meanwhile harmless).
    fn restore<'a>(&'a self, sha256: &'a str, trashed: &'a str) -> BoxFuture<'a, anyhow::Result<()>>;
    /// Deletes a trashed file.
    fn purge<'a>(&'a self, trashed: &'a str) -> BoxFuture<'a, anyhow::Result<()>>;
    /// Free bytes left for new files (`None` where it cannot be told, as on object storage).
    fn free_bytes(&self) -> Option<u64>;
}

/// Opens the store `url` names: `s3://bucket[/prefix]` (endpoint, region and credentials
/// from the `AWS_*` variables), else the local directory `dir`. Either way `dir/staging`
/// holds this process's scratch files.
pub async fn open(url: Option<&str>, dir: &Path) -> anyhow::Result<Arc<dyn BlobStore>> {
    match url.map(str::trim).filter(|u| !u.is_empty()) {
        None => Ok(Arc::new(LocalBlobStore::open(dir).await?)),
        Some(url) if url.starts_with("s3://") => Ok(Arc::new(S3BlobStore::open(url, dir).await?)),
        Some(other) => anyhow::bail!("MOTCUA_BLOB_URL must be s3://bucket[/prefix], not {other:?}"),
    }
}

/// Blobs in `<root>/<first two hex digits>/<sha256>`, uploads staged in `<root>/staging`
/// (chunks of upload `id` in `<root>/staging/<id>.chunks/`).
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

    fn chunk_dir(&self, upload: &str) -> PathBuf {
        self.root.join("staging").join(format!("{upload}.chunks"))
    }
}

/// `Ok(None)` for a file that is not there.
fn absent<T>(result: std::io::Result<T>) -> anyhow::Result<Option<T>> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Up to [`MAX_LISTED`] file names in `dir` (none if it is missing).
async fn file_names(dir: &Path) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    let Some(mut entries) = absent(tokio::fs::read_dir(dir).await)? else { return Ok(out) };
    while let Some(entry) = entries.next_entry().await? {
        if out.len() >= MAX_LISTED {
            break;
        }
        if entry.file_type().await?.is_file() {
            out.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    Ok(out)
}

impl BlobStore for LocalBlobStore {
    fn put_file<'a>(&'a self, sha256: &'a str, staged: &'a Path) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(self.put_file_inner(sha256, staged))
    }

    fn get<'a>(&'a self, sha256: &'a str) -> BoxFuture<'a, anyhow::Result<Option<Vec<u8>>>> {
        Box::pin(async move { absent(tokio::fs::read(self.path(sha256)).await) })
    }

    fn get_range<'a>(&'a self, sha256: &'a str, range: Range<u64>) -> BoxFuture<'a, anyhow::Result<Option<Bytes>>> {
        Box::pin(async move {
            use tokio::io::AsyncSeekExt;
            let Some(mut file) = absent(tokio::fs::File::open(self.path(sha256)).await)? else { return Ok(None) };
            file.seek(std::io::SeekFrom::Start(range.start)).await?;
            let len = usize::try_from(range.end.saturating_sub(range.start))?;
            let mut buf = Vec::with_capacity(len);
            file.take(len as u64).read_to_end(&mut buf).await?;
            anyhow::ensure!(buf.len() == len, "the stored file of {sha256} is shorter than the range asked");
            Ok(Some(Bytes::from(buf)))
        })
    }

    fn staging_path(&self, id: &str) -> PathBuf {
        self.root.join("staging").join(format!("{id}.part"))
    }

    fn put_chunk<'a>(&'a self, upload: &'a str, name: &'a str, bytes: Bytes) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move { write_new(&self.chunk_dir(upload).join(name), &bytes).await })
    }

    fn get_chunk<'a>(&'a self, upload: &'a str, name: &'a str) -> BoxFuture<'a, anyhow::Result<Option<Bytes>>> {
        Box::pin(async move { Ok(absent(tokio::fs::read(self.chunk_dir(upload).join(name)).await)?.map(Bytes::from)) })
    }

    fn delete_chunk<'a>(&'a self, upload: &'a str, name: &'a str) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move { absent(tokio::fs::remove_file(self.chunk_dir(upload).join(name)).await).map(|_| ()) })
    }

    fn delete_chunks<'a>(&'a self, upload: &'a str) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move { absent(tokio::fs::remove_dir_all(self.chunk_dir(upload)).await).map(|_| ()) })
    }

    fn list_chunks<'a>(&'a self, upload: &'a str) -> BoxFuture<'a, anyhow::Result<Vec<String>>> {
        Box::pin(async move { file_names(&self.chunk_dir(upload)).await })
    }

    fn list_blobs(&self) -> BoxFuture<'_, anyhow::Result<Vec<String>>> {
        Box::pin(async move {
            let mut out = Vec::new();
            let mut dirs = tokio::fs::read_dir(&self.root).await?;
            while let Some(dir) = dirs.next_entry().await? {
                if dir.file_name() == "staging" || !dir.file_type().await?.is_dir() {
                    continue;
                }
                out.extend(file_names(&dir.path()).await?);
                if out.len() >= MAX_LISTED {
                    out.truncate(MAX_LISTED);
                    break;
                }
            }
            Ok(out)
        })
    }

    fn trash<'a>(&'a self, sha256: &'a str) -> BoxFuture<'a, anyhow::Result<Option<String>>> {
        Box::pin(async move {
            let trashed = self.root.join("staging").join(format!("{sha256}.trash-{}", uuid::Uuid::new_v4().simple()));
            let moved = absent(tokio::fs::rename(self.path(sha256), &trashed).await)?;
            Ok(moved.map(|()| trashed.to_string_lossy().into_owned()))
        })
    }

    fn restore<'a>(&'a self, sha256: &'a str, trashed: &'a str) -> BoxFuture<'a, anyhow::Result<()>> {
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

    fn purge<'a>(&'a self, trashed: &'a str) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move { absent(tokio::fs::remove_file(trashed).await).map(|_| ()) })
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

/// Files above this size go to object storage in parts of this size (S3 multipart upload).
const PART_BYTES: usize = 8 * 1024 * 1024;

/// Blobs as objects `<prefix>/blobs/<first two hex digits>/<sha256>` of an S3-compatible
/// bucket, chunks of upload `id` as `<prefix>/staging/<id>/<name>`, trashed blobs under
/// `<prefix>/trash/`. A PUT is atomic (a reader sees the old object or the new one, never
/// half), and S3 reads after writes are strongly consistent, which is all the janitor's
/// trash-then-recheck deletion needs.
#[derive(Debug)]
pub struct S3BlobStore {
    store: Arc<dyn ObjectStore>,
    prefix: ObjectPath,
    scratch: PathBuf,
    /// `s3://bucket[/prefix]`, for messages.
    url: String,
}

impl S3BlobStore {
    /// The bucket `url` names, reached with the `AWS_*` variables (`AWS_ENDPOINT_URL` for a
    /// non-AWS server, `AWS_ALLOW_HTTP=true` for plain HTTP, `AWS_REGION`,
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`); scratch files in `scratch/staging`.
    pub async fn open(url: &str, scratch: &Path) -> anyhow::Result<S3BlobStore> {
        let (_bucket, path) = url.trim_start_matches("s3://").split_once('/').unwrap_or((url, ""));
        let store = object_store::aws::AmazonS3Builder::from_env()
            .with_url(url)
            .build()
            .with_context(|| format!("configuring the object store {url}"))?;
        let prefix = ObjectPath::parse(path.trim_matches('/'))
            .with_context(|| format!("the prefix of MOTCUA_BLOB_URL {url:?}"))?;
        let scratch = scratch.join("staging");
        tokio::fs::create_dir_all(&scratch)
            .await
            .with_context(|| format!("creating the scratch directory {}", scratch.display()))?;
        let opened = S3BlobStore { store: Arc::new(store), prefix, scratch, url: url.to_owned() };
        // Fail at start, not at the first upload, when the bucket is unreachable.
        opened.store.list_with_delimiter(Some(&opened.prefix)).await.with_context(|| format!("reaching {url}"))?;
        Ok(opened)
    }

    fn key(&self, parts: &[&str]) -> ObjectPath {
        parts.iter().fold(self.prefix.clone(), |path, part| path.join(*part))
    }

    fn blob(&self, sha256: &str) -> ObjectPath {
        self.key(&["blobs", &sha256[..2.min(sha256.len())], sha256])
    }

    fn chunk(&self, upload: &str, name: &str) -> ObjectPath {
        self.key(&["staging", upload, name])
    }

    /// Up to [`MAX_LISTED`] object names under `prefix` (the last path segment).
    async fn names(&self, prefix: &ObjectPath) -> anyhow::Result<Vec<String>> {
        let listed: Vec<_> = self.store.list(Some(prefix)).take(MAX_LISTED).try_collect().await?;
        Ok(listed.into_iter().filter_map(|meta| meta.location.filename().map(str::to_owned)).collect())
    }

    async fn put_file_inner(&self, sha256: &str, staged: &Path) -> anyhow::Result<()> {
        let target = self.blob(sha256);
        let mut file = tokio::fs::File::open(staged).await?;
        let size = usize::try_from(file.metadata().await?.len())?;
        if size <= PART_BYTES {
            let mut bytes = Vec::with_capacity(size);
            file.read_to_end(&mut bytes).await?;
            self.store
                .put(&target, PutPayload::from(bytes))
                .await
                .with_context(|| format!("storing {sha256} in {}", self.url))?;
        } else {
            let upload = self.store.put_multipart(&target).await?;
            let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
            let mut buf = vec![0u8; 1024 * 1024];
            loop {
                let n = file.read(&mut buf).await?;
                if n == 0 {
                    break;
                }
                writer.wait_for_capacity(2).await?;
                writer.write(&buf[..n]);
            }
            writer.finish().await.with_context(|| format!("storing {sha256} in {} (multipart)", self.url))?;
        }
        tokio::fs::remove_file(staged).await.ok();
        Ok(())
    }
}

/// `Ok(None)` for an object that is not there.
fn missing<T>(result: object_store::Result<T>) -> anyhow::Result<Option<T>> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(object_store::Error::NotFound { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

impl BlobStore for S3BlobStore {
    fn put_file<'a>(&'a self, sha256: &'a str, staged: &'a Path) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(self.put_file_inner(sha256, staged))
    }

    fn get<'a>(&'a self, sha256: &'a str) -> BoxFuture<'a, anyhow::Result<Option<Vec<u8>>>> {
        Box::pin(async move {
            let Some(got) = missing(self.store.get(&self.blob(sha256)).await)? else { return Ok(None) };
            Ok(Some(got.bytes().await?.to_vec()))
        })
    }

    fn get_range<'a>(&'a self, sha256: &'a str, range: Range<u64>) -> BoxFuture<'a, anyhow::Result<Option<Bytes>>> {
        Box::pin(async move { missing(self.store.get_range(&self.blob(sha256), range).await) })
    }

    fn staging_path(&self, id: &str) -> PathBuf {
        self.scratch.join(format!("{id}.part"))
    }

    fn put_chunk<'a>(&'a self, upload: &'a str, name: &'a str, bytes: Bytes) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            self.store.put(&self.chunk(upload, name), PutPayload::from(bytes)).await?;
            Ok(())
        })
    }

    fn get_chunk<'a>(&'a self, upload: &'a str, name: &'a str) -> BoxFuture<'a, anyhow::Result<Option<Bytes>>> {
        Box::pin(async move {
            let Some(got) = missing(self.store.get(&self.chunk(upload, name)).await)? else { return Ok(None) };
            Ok(Some(got.bytes().await?))
        })
    }

    fn delete_chunk<'a>(&'a self, upload: &'a str, name: &'a str) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move { missing(self.store.delete(&self.chunk(upload, name)).await).map(|_| ()) })
    }

    fn delete_chunks<'a>(&'a self, upload: &'a str) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            let listed = self.store.list(Some(&self.key(&["staging", upload]))).map_ok(|meta| meta.location).boxed();
            let mut deleted = self.store.delete_stream(listed);
            while let Some(done) = deleted.next().await {
                missing(done)?;
            }
            Ok(())
        })
    }

    fn list_chunks<'a>(&'a self, upload: &'a str) -> BoxFuture<'a, anyhow::Result<Vec<String>>> {
        Box::pin(async move { self.names(&self.key(&["staging", upload])).await })
    }

    fn list_blobs(&self) -> BoxFuture<'_, anyhow::Result<Vec<String>>> {
        Box::pin(async move { self.names(&self.key(&["blobs"])).await })
    }

    fn trash<'a>(&'a self, sha256: &'a str) -> BoxFuture<'a, anyhow::Result<Option<String>>> {
        Box::pin(async move {
            let trashed = self.key(&["trash", &format!("{sha256}-{}", uuid::Uuid::new_v4().simple())]);
            // A copy, then a delete of the original: an upload landing in between is
            // deleted too, but its row makes the janitor's recheck restore the copy.
            let moved = missing(self.store.rename(&self.blob(sha256), &trashed).await)?;
            Ok(moved.map(|()| trashed.to_string()))
        })
    }

    fn restore<'a>(&'a self, sha256: &'a str, trashed: &'a str) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            let trashed = ObjectPath::parse(trashed)?;
            self.store.copy(&trashed, &self.blob(sha256)).await?;
            missing(self.store.delete(&trashed).await).map(|_| ())
        })
    }

    fn purge<'a>(&'a self, trashed: &'a str) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move { missing(self.store.delete(&ObjectPath::parse(trashed)?).await).map(|_| ()) })
    }

    fn free_bytes(&self) -> Option<u64> {
        None
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
