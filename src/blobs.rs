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

/// Blobs at least this large go up as a multipart upload, in parts of this
/// size (S3 needs parts of at least 5 MiB).
const PART_BYTES: usize = 8 << 20;

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
}

/// The hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn key(hash: &str) -> StorePath {
    StorePath::from(format!("sha256/{}/{hash}", &hash[..2.min(hash.len())]))
}

impl Blobs {
    /// A store in a local folder, created if needed.
    pub fn local(dir: &std::path::Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating blob folder {}", dir.display()))?;
        let store = LocalFileSystem::new_with_prefix(dir)?.with_automatic_cleanup(true);
        Ok(Self { store: Arc::new(store), location: Arc::new(BlobLocation::Local(dir.to_owned())) })
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
        Ok(Self { store, location: Arc::new(location.clone()) })
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
        match self.store.head(&key).await {
            Ok(_) => return Ok(hash),
            Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(anyhow::Error::new(e).context("looking up a blob in the store")),
        }
        if bytes.len() < PART_BYTES {
            self.store.put(&key, bytes.into()).await.context("writing a blob to the store")?;
            return Ok(hash);
        }
        let upload = self.store.put_multipart(&key).await.context("starting a blob upload")?;
        let mut writer = object_store::WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
        let mut offset = 0;
        while offset < bytes.len() {
            let end = (offset + PART_BYTES).min(bytes.len());
            if let Err(e) = writer.wait_for_capacity(4).await {
                return Err(anyhow::Error::new(e).context("writing a blob to the store"));
            }
            writer.put(bytes.slice(offset..end));
            offset = end;
        }
        // On an error `finish` aborts the upload: no part becomes visible.
        writer.finish().await.context("writing a blob to the store")?;
        Ok(hash)
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
        let bytes: Bytes = (0..PART_BYTES * 2 + 12345).map(|i| (i % 251) as u8).collect::<Vec<_>>().into();
        let hash = blobs.put(bytes.clone()).await.unwrap();
        assert_eq!(hash, sha256_hex(&bytes));
        assert_eq!(blobs.get(&hash).await.unwrap(), bytes);
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
