//! Content-addressed blob storage: submissions, task files, predictions and
//! models, in a local folder or any S3-compatible store.
//!
//! Invariants: a blob's key is the SHA-256 of its bytes (`sha256/ab/abcdef…`,
//! under the store's prefix), so writing the same content twice is harmless
//! and a database row that names a hash always finds the same bytes. A blob
//! is written whole or not at all: the local folder writes a temporary file
//! and renames it, and S3 makes an object (or a multipart upload) visible
//! only once it is complete. Callers store the blob before the row that
//! names it, so a failed write leaves nothing behind but an unreferenced
//! blob. Remote workers never hold store credentials: they fetch through
//! the server.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use object_store::ObjectStore;
use object_store::local::LocalFileSystem;
use object_store::path::Path as StorePath;
use sha2::{Digest, Sha256};

/// Blobs at least a part large go up as a multipart upload, a part at a
/// time. S3 needs parts of at least 5 MiB; a local folder takes any size,
/// so its parts are small: each file being stored holds two or three parts
/// in memory.
const S3_PART_BYTES: usize = 8 << 20;
const LOCAL_PART_BYTES: usize = 1 << 20;

/// Where the blobs live, as `gaic serve --blob-url` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobLocation {
    /// A local folder.
    Local(std::path::PathBuf),
    /// An S3-compatible bucket and a key prefix (may be empty).
    S3 {
        /// The bucket.
        bucket: String,
        /// Keys are stored under this prefix.
        prefix: String,
    },
}

impl BlobLocation {
    /// Reads `s3://bucket/prefix`, `file:///path` or a plain path.
    pub fn parse(url: &str) -> anyhow::Result<Self> {
        if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            anyhow::ensure!(!bucket.is_empty(), "the blob URL {url:?} names no bucket (s3://BUCKET/PREFIX)");
            return Ok(Self::S3 { bucket: bucket.to_owned(), prefix: prefix.trim_matches('/').to_owned() });
        }
        if let Some(path) = url.strip_prefix("file://") {
            return Ok(Self::Local(path.into()));
        }
        anyhow::ensure!(!url.contains("://"), "the blob URL {url:?} is neither s3://BUCKET/PREFIX nor a folder");
        Ok(Self::Local(url.into()))
    }

    /// `local` or `s3`, as `/readyz` reports it.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Local(_) => "local",
            Self::S3 { .. } => "s3",
        }
    }
}

impl std::fmt::Display for BlobLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Local(p) => write!(f, "{}", p.display()),
            Self::S3 { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}"),
        }
    }
}

/// Connection settings of an S3-compatible store beyond the `AWS_*`
/// variables (which give the credentials, and may give these too).
#[derive(Debug, Clone, Default)]
pub struct S3Options {
    /// The endpoint, e.g. `http://127.0.0.1:9000` for a self-hosted store
    /// (plain http is allowed when the endpoint says so).
    pub endpoint: Option<String>,
    /// The region.
    pub region: Option<String>,
    /// The access key id.
    pub access_key_id: Option<String>,
    /// The secret access key.
    pub secret_access_key: Option<String>,
}

/// A handle on the blob store; cheap to clone.
#[derive(Debug, Clone)]
pub struct Blobs {
    store: Arc<dyn ObjectStore>,
    location: Arc<BlobLocation>,
    spool_dir: Arc<std::path::PathBuf>,
    spool_budget: Arc<SpoolBudget>,
    part_bytes: usize,
}

/// The bytes all uploads being received may hold on disk at once.
#[derive(Debug)]
struct SpoolBudget {
    used: std::sync::atomic::AtomicU64,
    max: u64,
}

impl SpoolBudget {
    fn new(max: u64) -> Arc<Self> {
        Arc::new(Self { used: std::sync::atomic::AtomicU64::new(0), max })
    }

    /// Takes `n` bytes, or says the spool is full (taking nothing).
    fn take(&self, n: u64) -> Result<(), SpoolError> {
        use std::sync::atomic::Ordering;
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| u.checked_add(n).filter(|&t| t <= self.max))
            .map(|_| ())
            .map_err(|_| SpoolError::Full)
    }

    fn give_back(&self, n: u64) {
        self.used.fetch_sub(n, std::sync::atomic::Ordering::AcqRel);
    }
}

/// Why an upload could not be received.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    /// The uploads being received already hold the spool's whole budget.
    #[error("the uploads being received fill the spool")]
    Full,
    /// The disk failed.
    #[error("writing a received upload: {0}")]
    Io(#[from] std::io::Error),
}

/// A spool file and the budget its bytes hold: both given back on drop.
#[derive(Debug)]
struct Held {
    path: tempfile::TempPath,
    bytes: u64,
    budget: Arc<SpoolBudget>,
}

impl Drop for Held {
    fn drop(&mut self) {
        self.budget.give_back(self.bytes);
    }
}

/// Spooled files older than this at start are a crashed process's leftovers.
const STALE_SPOOL: Duration = Duration::from_secs(3600);

/// An upload on its way in: written to a temporary file in the spool folder
/// while its hash is taken, so receiving it holds one buffer in memory
/// however large it is. [`Spool::finish`] gives the [`Spooled`] file; dropped
/// unfinished, the file is deleted.
pub struct Spool {
    out: tokio::io::BufWriter<tokio::fs::File>,
    held: Held,
    hasher: Sha256,
    head: Vec<u8>,
}

/// How many leading bytes a spooled file keeps in memory (enough for any
/// magic number).
const HEAD_BYTES: usize = 16;

impl Spool {
    /// Appends a chunk, once the spool's budget has room for it.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), SpoolError> {
        use tokio::io::AsyncWriteExt;
        self.held.budget.take(chunk.len() as u64)?;
        self.held.bytes += chunk.len() as u64;
        if self.head.len() < HEAD_BYTES {
            let take = (HEAD_BYTES - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
        }
        self.hasher.update(chunk);
        Ok(self.out.write_all(chunk).await?)
    }

    /// The whole file, on disk, with its hash.
    pub async fn finish(mut self) -> std::io::Result<Spooled> {
        use tokio::io::AsyncWriteExt;
        self.out.flush().await?;
        let hash = hex::encode(self.hasher.finalize());
        Ok(Spooled { held: Arc::new(self.held), hash, head: self.head })
    }
}

/// A received upload in a temporary file (deleted, and its bytes given back
/// to the spool's budget, when the last clone is dropped), with its SHA-256
/// and first bytes.
#[derive(Debug, Clone)]
pub struct Spooled {
    held: Arc<Held>,
    hash: String,
    head: Vec<u8>,
}

impl Spooled {
    /// The hex SHA-256 of the content.
    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// The size in bytes.
    pub fn len(&self) -> u64 {
        self.held.bytes
    }

    /// Whether the file is empty.
    pub fn is_empty(&self) -> bool {
        self.held.bytes == 0
    }

    /// Whether the content starts with `magic` (at most 16 bytes).
    pub fn starts_with(&self, magic: &[u8]) -> bool {
        self.head.starts_with(magic)
    }

    /// Where the content is on disk, while this is held.
    pub fn path(&self) -> &Path {
        &self.held.path
    }

    /// Opens the file to read it from the start (blocking).
    pub fn open(&self) -> std::io::Result<std::fs::File> {
        std::fs::File::open(&self.held.path)
    }

    /// Reads the whole content into memory.
    pub async fn bytes(&self) -> std::io::Result<Bytes> {
        tokio::fs::read(&self.held.path).await.map(Bytes::from)
    }
}

/// The hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The hex SHA-256 and the size of the file at `path`, read a buffer at a
/// time.
pub fn sha256_file(path: &Path) -> std::io::Result<(String, u64)> {
    let mut hasher = Sha256::new();
    let size = std::io::copy(&mut std::fs::File::open(path)?, &mut hasher)?;
    Ok((hex::encode(hasher.finalize()), size))
}

fn key(hash: &str) -> StorePath {
    StorePath::from(format!("sha256/{}/{hash}", &hash[..2.min(hash.len())]))
}

impl Blobs {
    /// A store in a local folder, created if needed.
    pub fn local(dir: &std::path::Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating blob folder {}", dir.display()))?;
        let store = LocalFileSystem::new_with_prefix(dir)?.with_automatic_cleanup(true);
        Ok(Self {
            store: Arc::new(store),
            location: Arc::new(BlobLocation::Local(dir.to_owned())),
            spool_dir: Arc::new(std::env::temp_dir()),
            spool_budget: SpoolBudget::new(u64::MAX),
            part_bytes: LOCAL_PART_BYTES,
        })
    }

    /// Receives uploads in `dir` (created if needed) instead of the system's
    /// temporary folder, holding at most `max_bytes` there at once; files a
    /// crashed process left there over an hour ago are deleted.
    pub fn with_spool(mut self, dir: &std::path::Path, max_bytes: u64) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating the upload folder {}", dir.display()))?;
        let entries = std::fs::read_dir(dir).with_context(|| format!("reading the upload folder {}", dir.display()))?;
        for entry in entries.flatten() {
            let stale = entry.metadata().and_then(|m| m.modified()).ok().and_then(|t| t.elapsed().ok());
            if stale.is_some_and(|age| age > STALE_SPOOL) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        self.spool_dir = Arc::new(dir.to_owned());
        self.spool_budget = SpoolBudget::new(max_bytes);
        Ok(self)
    }

    /// Starts receiving an upload into a temporary file.
    pub async fn spool(&self) -> std::io::Result<Spool> {
        let dir = self.spool_dir.clone();
        let file = tokio::task::spawn_blocking(move || tempfile::NamedTempFile::new_in(&*dir))
            .await
            .map_err(std::io::Error::other)??;
        let (file, path) = file.into_parts();
        let out = tokio::io::BufWriter::with_capacity(256 << 10, tokio::fs::File::from_std(file));
        let held = Held { path, bytes: 0, budget: self.spool_budget.clone() };
        Ok(Spool { out, held, hasher: Sha256::new(), head: Vec::with_capacity(HEAD_BYTES) })
    }

    /// The store at `location`. For S3, credentials, and the endpoint and
    /// region unless `options` give them, come from the `AWS_*` variables.
    /// Nothing is contacted yet: [`Blobs::check`] does.
    pub fn open(location: &BlobLocation, options: &S3Options) -> anyhow::Result<Self> {
        let (bucket, prefix) = match location {
            BlobLocation::Local(dir) => return Self::local(dir),
            BlobLocation::S3 { bucket, prefix } => (bucket, prefix),
        };
        let mut builder = object_store::aws::AmazonS3Builder::from_env().with_bucket_name(bucket);
        if let Some(endpoint) = &options.endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        if let Some(region) = &options.region {
            builder = builder.with_region(region);
        }
        if let (Some(id), Some(secret)) = (&options.access_key_id, &options.secret_access_key) {
            builder = builder.with_access_key_id(id).with_secret_access_key(secret);
        }
        let endpoint = options
            .endpoint
            .clone()
            .or_else(|| ["AWS_ENDPOINT_URL", "AWS_ENDPOINT"].iter().find_map(|v| std::env::var(v).ok()));
        // Fail in seconds, not minutes: a store that does not answer makes
        // the replica unready rather than hanging its requests.
        let retry =
            object_store::RetryConfig { max_retries: 3, retry_timeout: Duration::from_secs(15), ..Default::default() };
        let client = object_store::ClientOptions::new()
            .with_connect_timeout(Duration::from_secs(5))
            .with_timeout(Duration::from_secs(120))
            .with_allow_http(endpoint.as_deref().is_some_and(|e| e.starts_with("http://")));
        let s3 = builder
            .with_retry(retry)
            .with_client_options(client)
            .build()
            .with_context(|| format!("configuring the blob store {location}"))?;
        let store: Arc<dyn ObjectStore> = if prefix.is_empty() {
            Arc::new(s3)
        } else {
            Arc::new(object_store::prefix::PrefixStore::new(s3, prefix.as_str()))
        };
        Ok(Self {
            store,
            location: Arc::new(location.clone()),
            spool_dir: Arc::new(std::env::temp_dir()),
            spool_budget: SpoolBudget::new(u64::MAX),
            part_bytes: S3_PART_BYTES,
        })
    }

    /// Where the blobs live, for logs and errors.
    pub fn location(&self) -> &BlobLocation {
        &self.location
    }

    /// Whether the store answers: looks up a key that need not exist (a
    /// missing key is an answer; a refused connection, a missing bucket or
    /// bad credentials are not).
    pub async fn check(&self) -> anyhow::Result<()> {
        match self.store.head(&StorePath::from("sha256/readiness-probe")).await {
            Ok(_) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(anyhow::Error::new(e).context(format!("the blob store {} does not answer", self.location))),
        }
    }

    /// Stores `bytes` and returns their hash; the blob appears whole or not
    /// at all.
    pub async fn put(&self, bytes: Bytes) -> anyhow::Result<String> {
        let hash = sha256_hex(&bytes);
        let key = key(&hash);
        if self.stored(&key).await? {
            return Ok(hash);
        }
        let part = self.part_bytes;
        if bytes.len() < part {
            self.store.put(&key, bytes.into()).await.context("writing a blob to the store")?;
            return Ok(hash);
        }
        // Slices of the bytes in memory: four parts going up at once cost
        // nothing more.
        let parts = (0..bytes.len()).step_by(part).map(|at| Ok(bytes.slice(at..(at + part).min(bytes.len()))));
        self.put_parts(&key, futures::stream::iter(parts), 4).await?;
        Ok(hash)
    }

    /// Stores a spooled upload under its hash, read from its file a part at
    /// a time; the blob appears whole or not at all.
    /// The spool file is this process's own, hashed as it was received: it
    /// is not hashed again.
    pub async fn put_spooled(&self, file: &Spooled) -> anyhow::Result<String> {
        self.put_path(&file.held.path, &file.hash, false).await?;
        Ok(file.hash.clone())
    }

    /// Stores the file at `path`, whose content hashes to `hash`, read a
    /// part at a time; the blob appears whole or not at all. The content is
    /// hashed again on its way up and the upload abandoned if it changed,
    /// so a key always names its bytes.
    pub async fn put_file(&self, path: &Path, hash: &str) -> anyhow::Result<()> {
        self.put_path(path, hash, true).await
    }

    /// [`Blobs::put_file`], checking the hash again if `check`.
    async fn put_path(&self, path: &Path, hash: &str, check: bool) -> anyhow::Result<()> {
        use tokio::io::AsyncReadExt;
        let key = key(hash);
        if self.stored(&key).await? {
            return Ok(());
        }
        let changed = || format!("{} changed while it was being stored", path.display());
        let mut reader = tokio::fs::File::open(path).await.context("reading a file to store")?;
        let len = reader.metadata().await.context("reading a file to store")?.len();
        let part = self.part_bytes;
        if len < part as u64 {
            let mut bytes = Vec::with_capacity(len as usize);
            reader.read_to_end(&mut bytes).await.context("reading a file to store")?;
            if check && sha256_hex(&bytes) != hash {
                anyhow::bail!(changed());
            }
            self.store.put(&key, Bytes::from(bytes).into()).await.context("writing a blob to the store")?;
            return Ok(());
        }
        // Each part read from the file is a new buffer: two at once. The
        // last read (0 bytes) checks the hash before the upload finishes.
        let hasher = check.then(Sha256::new);
        let parts = futures::stream::try_unfold((reader, hasher), |(mut reader, mut hasher)| async move {
            let mut bytes = Vec::with_capacity(part);
            let read = (&mut reader).take(part as u64).read_to_end(&mut bytes).await?;
            if read > 0 {
                if let Some(hasher) = &mut hasher {
                    hasher.update(&bytes);
                }
                return Ok(Some((Bytes::from(bytes), (reader, hasher))));
            }
            if hasher.is_none_or(|h| hex::encode(h.finalize()) == hash) {
                Ok(None)
            } else {
                Err(std::io::Error::new(std::io::ErrorKind::InvalidData, changed()))
            }
        });
        self.put_parts(&key, parts, 2).await
    }

    /// Whether a blob is stored under `key` (a missing one is an answer; an
    /// unreachable store is an error).
    async fn stored(&self, key: &StorePath) -> anyhow::Result<bool> {
        match self.store.head(key).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(anyhow::Error::new(e).context("looking up a blob in the store")),
        }
    }

    /// Writes `parts` under `key` as one multipart upload, with up to
    /// `in_flight` parts going up at once. The blob appears whole or not at
    /// all: a part that cannot be read aborts the upload, and so does an
    /// error in `finish`.
    async fn put_parts(
        &self,
        key: &StorePath,
        parts: impl futures::Stream<Item = std::io::Result<Bytes>>,
        in_flight: usize,
    ) -> anyhow::Result<()> {
        let upload = self.store.put_multipart(key).await.context("starting a blob upload")?;
        let mut writer = object_store::WriteMultipart::new_with_chunk_size(upload, self.part_bytes);
        let mut parts = std::pin::pin!(parts);
        while let Some(part) = parts.next().await {
            let part = match part {
                Ok(part) => part,
                Err(e) => {
                    writer.abort().await.ok();
                    return Err(anyhow::Error::new(e).context("reading a received upload"));
                }
            };
            if let Err(e) = writer.wait_for_capacity(in_flight).await {
                return Err(anyhow::Error::new(e).context("writing a blob to the store"));
            }
            writer.put(part);
        }
        writer.finish().await.context("writing a blob to the store")?;
        Ok(())
    }

    /// The whole content of a blob.
    pub async fn get(&self, hash: &str) -> anyhow::Result<Bytes> {
        let read = async { self.store.get(&key(hash)).await?.bytes().await };
        read.await.with_context(|| format!("reading blob {hash} from the store"))
    }

    /// Deletes a blob (gone already is fine). Only for a blob nothing refers
    /// to any more: the store is content-addressed, so the same bytes
    /// uploaded twice share one blob.
    pub async fn delete(&self, hash: &str) -> anyhow::Result<()> {
        match self.store.delete(&key(hash)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(anyhow::Error::new(e).context(format!("deleting blob {hash} from the store"))),
        }
    }

    /// The content of a blob as a stream of chunks, for downloads.
    pub async fn stream(&self, hash: &str) -> anyhow::Result<BoxStream<'static, std::io::Result<Bytes>>> {
        let result = self.store.get(&key(hash)).await.with_context(|| format!("reading blob {hash} from the store"))?;
        Ok(result.into_stream().map_err(std::io::Error::other).boxed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn blobs_are_stored_under_their_hash() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Blobs::local(dir.path()).unwrap();
        blobs.check().await.unwrap();
        let hash = blobs.put(Bytes::from_static(b"hello")).await.unwrap();
        assert_eq!(hash, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
        assert_eq!(blobs.put(Bytes::from_static(b"hello")).await.unwrap(), hash);
        assert_eq!(&blobs.get(&hash).await.unwrap()[..], b"hello");
        assert!(dir.path().join("sha256/2c").join(&hash).is_file());
    }

    #[tokio::test]
    async fn large_blobs_go_up_in_parts_and_read_back_whole() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Blobs::local(dir.path()).unwrap();
        let bytes: Bytes = (0..LOCAL_PART_BYTES * 2 + 12345).map(|i| (i % 251) as u8).collect::<Vec<_>>().into();
        let hash = blobs.put(bytes.clone()).await.unwrap();
        assert_eq!(hash, sha256_hex(&bytes));
        assert_eq!(blobs.get(&hash).await.unwrap(), bytes);
    }

    /// A file stored by path is hashed again on its way up: one whose
    /// content no longer matches the hash it was checked under is not
    /// stored under that hash, whole or in part.
    #[tokio::test]
    async fn a_file_changed_after_it_was_hashed_is_not_stored() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Blobs::local(&dir.path().join("blobs")).unwrap();
        for size in [5, LOCAL_PART_BYTES * 2 + 777] {
            let path = dir.path().join(format!("file-{size}"));
            let bytes: Vec<u8> = (0..size).map(|i| (i % 241) as u8).collect();
            std::fs::write(&path, &bytes).unwrap();
            let (hash, len) = sha256_file(&path).unwrap();
            assert_eq!((hash.as_str(), len), (sha256_hex(&bytes).as_str(), size as u64));
            let mut changed = bytes.clone();
            changed[size / 2] ^= 1;
            std::fs::write(&path, &changed).unwrap();
            let err = blobs.put_file(&path, &hash).await.unwrap_err();
            assert!(format!("{err:#}").contains("changed while it was being stored"), "{err:#}");
            assert!(blobs.get(&hash).await.is_err(), "nothing stored under the old hash");
            std::fs::write(&path, &bytes).unwrap();
            blobs.put_file(&path, &hash).await.unwrap();
            assert_eq!(blobs.get(&hash).await.unwrap(), bytes);
        }
    }

    #[tokio::test]
    async fn spooled_uploads_are_hashed_as_received_and_stored_whole() {
        let dir = tempfile::tempdir().unwrap();
        let spool_dir = dir.path().join("spool");
        let blobs = Blobs::local(&dir.path().join("blobs")).unwrap().with_spool(&spool_dir, u64::MAX).unwrap();
        for size in [0, 5, LOCAL_PART_BYTES - 1, LOCAL_PART_BYTES * 2 + 777] {
            let bytes: Vec<u8> = (0..size).map(|i| (i % 253) as u8).collect();
            let mut spool = blobs.spool().await.unwrap();
            for chunk in bytes.chunks(65_537) {
                spool.write(chunk).await.unwrap();
            }
            let file = spool.finish().await.unwrap();
            assert_eq!((file.hash(), file.len()), (sha256_hex(&bytes).as_str(), size as u64));
            assert_eq!(file.starts_with(&[0, 1, 2]), size >= 3);
            assert_eq!(std::fs::read_dir(&spool_dir).unwrap().count(), 1, "one file in the spool");
            let hash = blobs.put_spooled(&file).await.unwrap();
            assert_eq!(hash, file.hash());
            assert_eq!(blobs.get(&hash).await.unwrap(), bytes);
            // Stored again: found under its hash, nothing written.
            assert_eq!(blobs.put_spooled(&file).await.unwrap(), hash);
            drop(file);
            assert_eq!(std::fs::read_dir(&spool_dir).unwrap().count(), 0, "dropped, the file is gone");
        }
        // An upload abandoned half-way leaves nothing behind.
        let mut spool = blobs.spool().await.unwrap();
        spool.write(b"half").await.unwrap();
        drop(spool);
        assert_eq!(std::fs::read_dir(&spool_dir).unwrap().count(), 0);
    }

    #[tokio::test]
    async fn the_spool_holds_at_most_its_budget_and_gets_it_back_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let blobs =
            Blobs::local(&dir.path().join("blobs")).unwrap().with_spool(&dir.path().join("spool"), 100).unwrap();
        let mut a = blobs.spool().await.unwrap();
        a.write(&[1; 60]).await.unwrap();
        let mut b = blobs.spool().await.unwrap();
        assert!(matches!(b.write(&[2; 50]).await, Err(SpoolError::Full)), "60 + 50 > 100");
        b.write(&[2; 40]).await.unwrap();
        let a = a.finish().await.unwrap();
        assert!(matches!(b.write(&[2; 1]).await, Err(SpoolError::Full)));
        // A finished file holds its bytes until its last handle goes.
        let a2 = a.clone();
        drop(a);
        assert!(matches!(b.write(&[2; 1]).await, Err(SpoolError::Full)));
        drop(a2);
        b.write(&[2; 60]).await.unwrap();
        drop(b);
        blobs.spool().await.unwrap().write(&[3; 100]).await.unwrap();
    }

    #[test]
    fn a_crashed_processs_old_spool_files_are_cleared_at_start_and_new_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let (old, new) = (dir.path().join(".tmpold"), dir.path().join(".tmpnew"));
        std::fs::write(&old, b"x").unwrap();
        std::fs::write(&new, b"y").unwrap();
        let two_hours_ago = std::time::SystemTime::now() - Duration::from_secs(7200);
        std::fs::File::options().write(true).open(&old).unwrap().set_modified(two_hours_ago).unwrap();
        let blobs = Blobs::local(&dir.path().join("blobs")).unwrap();
        blobs.with_spool(dir.path(), u64::MAX).unwrap();
        assert!(!old.exists() && new.exists());
    }

    #[test]
    fn blob_urls_name_a_bucket_and_prefix_or_a_folder() {
        let s3 = |b: &str, p: &str| BlobLocation::S3 { bucket: b.into(), prefix: p.into() };
        assert_eq!(BlobLocation::parse("s3://gaic/prod/blobs/").unwrap(), s3("gaic", "prod/blobs"));
        assert_eq!(BlobLocation::parse("s3://gaic").unwrap(), s3("gaic", ""));
        assert_eq!(BlobLocation::parse("/srv/blobs").unwrap(), BlobLocation::Local("/srv/blobs".into()));
        assert_eq!(BlobLocation::parse("file:///srv/b").unwrap(), BlobLocation::Local("/srv/b".into()));
        for bad in ["s3://", "gs://bucket/x", "s3:///prefix"] {
            assert!(BlobLocation::parse(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn an_unreachable_store_fails_its_check_quickly() {
        let location = BlobLocation::parse("s3://nowhere/x").unwrap();
        let options = S3Options {
            endpoint: Some("http://127.0.0.1:9".into()),
            region: Some("us-east-1".into()),
            access_key_id: Some("test".into()),
            secret_access_key: Some("test".into()),
        };
        let blobs = Blobs::open(&location, &options).unwrap();
        let started = std::time::Instant::now();
        let err = blobs.check().await.unwrap_err();
        assert!(format!("{err:#}").contains("does not answer"), "{err:#}");
        assert!(started.elapsed() < Duration::from_secs(30));
    }
}
