//! The image file: a 32-byte header (magic, format version, payload length,
//! CRC-32), then the bincode payload. Files are decoded as they are read,
//! with the same checks and errors as bytes in memory; decoding allocates in
//! proportion to the input's size, never to a length field it holds.

use super::{CoreImage, Image, ImageError, RowStart, Synapse, ValidImage, FORMAT_VERSION, HEADER_LEN, MAGIC};
use crate::packed::{Bytes, Columns};

/// An image read for the emulator to load ([`Image::read_for_load`]):
/// validated, and the rows and synapses of its cores without learning or
/// shared kernels left in their packed columns, read in place as the
/// emulator lays them out. Decoded, they would be the load's largest
/// intermediate (the 1M ring's: 1.55 GB against ~290 MB), and a load's time
/// on a VM goes mostly to touching new memory (docs/benchmarks.md).
#[derive(Debug)]
pub struct LoadImage {
    image: Image,
    columns: Vec<Option<CoreColumns>>,
}

/// A core's rows and synapses in their packed columns.
#[derive(Debug)]
pub struct CoreColumns {
    pub rows: Columns<RowStart>,
    pub synapses: Columns<Synapse>,
}

impl LoadImage {
    /// The image, and per core its columns where it has them (the core's
    /// own `rows` and `synapses` then empty).
    pub fn into_parts(self) -> (Image, Vec<Option<CoreColumns>>) {
        (self.image, self.columns)
    }

    /// The image with every row and synapse decoded: what [`Image::read`] gives.
    pub fn into_valid(self) -> ValidImage {
        let mut img = self.image;
        for (c, col) in img.cores.iter_mut().zip(self.columns) {
            if let Some(col) = col {
                col.rows.decode_into(&mut c.rows);
                col.synapses.decode_into(&mut c.synapses);
            }
        }
        ValidImage(img)
    }
}

/// What `Image::read_file` gives: the image, each core's stored synapses
/// (for a part), each core's columns (for a `LoadImage`).
type FileRead = (Image, Vec<u64>, Vec<Option<CoreColumns>>);

/// Payloads from which a file's packed arrays are decoded on the host's
/// threads (the 1M ring's: 390 MB; CUBA's 1.5 MB takes ~3 ms on one).
const PARALLEL_UNPACK: u64 = 16 << 20;

fn unpack_threads(payload_len: u64) -> usize {
    if payload_len >= PARALLEL_UNPACK {
        crate::host_threads()
    } else {
        1
    }
}

/// Largest payload allocation bincode may claim while encoding (and the
/// last decoding tier).
const DECODE_LIMIT: usize = 1 << 36;

fn bincode_config() -> impl bincode::config::Config {
    config::<DECODE_LIMIT>()
}

fn config<const L: usize>() -> impl bincode::config::Config {
    bincode::config::standard().with_little_endian().with_variable_int_encoding().with_limit::<L>()
}

/// What bincode may claim (allocate) decoding a payload of `len` bytes: a
/// string or byte string claims its length before reading it, so a length
/// field could ask for gigabytes that are not there (found by fuzzing); the
/// claims of a real payload stay within a small multiple of its size (a
/// container claims its items' in-memory size: a `String` 24 bytes for an
/// encoded 1). Decoding runs under the smallest tier above 32 × len + 1 MiB.
macro_rules! with_tier {
    ($len:expr, $f:ident $(, $arg:expr)*) => {{
        let need = ($len as u128) * 32 + (1 << 20);
        if need <= 1 << 22 {
            $f(config::<{ 1 << 22 }>() $(, $arg)*)
        } else if need <= 1 << 26 {
            $f(config::<{ 1 << 26 }>() $(, $arg)*)
        } else if need <= 1 << 30 {
            $f(config::<{ 1 << 30 }>() $(, $arg)*)
        } else if need <= 1 << 34 {
            $f(config::<{ 1 << 34 }>() $(, $arg)*)
        } else {
            $f(config::<DECODE_LIMIT>() $(, $arg)*)
        }
    }};
}

/// Checks an image header against the number of payload bytes that follow
/// it; returns the payload length and checksum.
fn check_header(h: &[u8; HEADER_LEN], avail: u64) -> Result<(u64, u32), ImageError> {
    let mut magic = [0u8; 8];
    magic.copy_from_slice(&h[0..8]);
    if magic != MAGIC {
        return Err(ImageError::BadMagic { found: magic });
    }
    let u32_at = |o: usize| u32::from_le_bytes([h[o], h[o + 1], h[o + 2], h[o + 3]]);
    let version = u32_at(8);
    if version != FORMAT_VERSION {
        return Err(ImageError::UnsupportedVersion { found: version });
    }
    let flags = u32_at(12);
    if flags != 0 {
        return Err(ImageError::Reserved { field: "flags", value: flags as u64 });
    }
    let mut len8 = [0u8; 8];
    len8.copy_from_slice(&h[16..24]);
    let len = u64::from_le_bytes(len8);
    let crc = u32_at(24);
    let reserved = u32_at(28);
    if reserved != 0 {
        return Err(ImageError::Reserved { field: "reserved", value: reserved as u64 });
    }
    if avail < len {
        return Err(ImageError::Truncated { expected: len, found: avail });
    }
    if avail > len {
        return Err(ImageError::TrailingBytes { extra: avail - len });
    }
    Ok((len, crc))
}

/// A reader that checksums and counts what it passes on.
struct Hashing<R> {
    inner: R,
    hasher: crc32fast::Hasher,
    count: u64,
}

impl<R: std::io::Read> std::io::Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}

/// Reads into `buf` from byte `at` of `f`, leaving the file's position alone
/// (threads read their stretches of one file at once).
#[cfg(unix)]
fn read_at(f: &std::fs::File, buf: &mut [u8], at: u64) -> std::io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(f, buf, at)
}

/// An image file opened for reading, and its length. A device is refused
/// (`crate::files`); a pipe or a socket (`nerve run <(…)`, /dev/stdin) is
/// copied into an unnamed temporary file first, since reading needs the
/// length and reads stretches at offsets: once its header shows a nerve
/// image (a stream that is none is not read on), and no further than the
/// payload the header claims and one byte (which tells that bytes trail).
fn open_image(path: &std::path::Path) -> Result<(std::fs::File, u64), ImageError> {
    let io = |source: std::io::Error| ImageError::Io { path: path.display().to_string(), source };
    crate::files::refuse_device(path).map_err(io)?;
    let f = std::fs::File::open(path).map_err(io)?;
    let meta = f.metadata().map_err(io)?;
    #[cfg(unix)]
    {
        use std::io::{Read, Seek, Write};
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() || t.is_socket() {
            let mut header = Vec::with_capacity(HEADER_LEN);
            (&f).take(HEADER_LEN as u64).read_to_end(&mut header).map_err(io)?;
            let Ok(h) = <[u8; HEADER_LEN]>::try_from(header.as_slice()) else {
                return Err(ImageError::TooShort { len: header.len() });
            };
            // The header's own checks, the length it claims taken as given.
            let claimed = u64::from_le_bytes([h[16], h[17], h[18], h[19], h[20], h[21], h[22], h[23]]);
            check_header(&h, claimed)?;
            // What the header announces is held twice over when decoded: a
            // claim past the host's available memory is no image it can
            // load, and is not copied (a forged length would fill the disk).
            if let Some((avail, _)) = crate::files::available_memory() {
                if claimed > avail {
                    return Err(ImageError::Decode(format!(
                        "the header announces {claimed} payload bytes, more than this host's available memory ({avail} bytes)"
                    )));
                }
            }
            let mut tmp = unnamed_file().map_err(io)?;
            tmp.write_all(&h).map_err(io)?;
            let copied = std::io::copy(&mut (&f).take(claimed.saturating_add(1)), &mut tmp).map_err(io)?;
            if copied > claimed {
                return Err(ImageError::StreamTrailing { expected: claimed });
            }
            tmp.rewind().map_err(io)?;
            return Ok((tmp, HEADER_LEN as u64 + copied));
        }
    }
    Ok((f, meta.len()))
}

/// A new file in the temporary directory, its name removed at once (it
/// lives while open).
#[cfg(unix)]
fn unnamed_file() -> std::io::Result<std::fs::File> {
    let dir = std::env::temp_dir();
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    for k in 0..100u32 {
        let p = dir.join(format!("nerve-image-{}-{stamp}-{k}", std::process::id()));
        match std::fs::OpenOptions::new().read(true).write(true).create_new(true).open(&p) {
            Ok(f) => {
                std::fs::remove_file(&p)?;
                return Ok(f);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other(format!("no free temporary file name in {}", dir.display())))
}

#[cfg(windows)]
fn read_at(f: &std::fs::File, buf: &mut [u8], at: u64) -> std::io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(f, buf, at)
}

/// A writer that checksums and counts what it passes on.
struct HashingWriter<W> {
    inner: W,
    hasher: crc32fast::Hasher,
    count: u64,
}

impl<W: std::io::Write> std::io::Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl CoreImage {
    /// Packed arrays per core, in field order: rows, synapses, gap junctions.
    pub(super) const PACKED: usize = 3;

    /// Decodes this core's packed arrays from the next `PACKED` of `kept`
    /// (`packed::deferred`); an error names the core by its index `i`.
    /// With `columns`, a core without learning or shared kernels keeps its
    /// rows and synapses in their columns (checked as decoding checks
    /// them), given back, and its `rows` and `synapses` stay empty.
    pub(super) fn unpack(&mut self, kept: &mut impl Iterator<Item = Bytes>, i: usize, columns: bool) -> Result<Option<CoreColumns>, ImageError> {
        use crate::packed::decode;
        let at = |e: String| ImageError::Decode(format!("core {i}: {e}"));
        let mut next = || kept.next().unwrap_or_default();
        let mut col = None;
        if columns && self.plastic.is_empty() && self.conv.is_empty() {
            let rows = Columns::new(next()).map_err(at)?;
            col = Some(CoreColumns { rows, synapses: Columns::new(next()).map_err(at)? });
        } else {
            self.rows = decode(&next()).map_err(at)?;
            self.synapses = decode(&next()).map_err(at)?;
        }
        self.gap = decode(&next()).map_err(at)?;
        Ok(col)
    }

    /// For a core a rank strips (`part.rs`): decodes its gap junctions
    /// (every rank keeps them) and gives the synapses its kept arrays hold,
    /// counted from their headers, never decoded.
    pub(super) fn unpack_stripped(&mut self, kept: Vec<Bytes>, i: usize) -> Result<u64, ImageError> {
        use crate::packed::{count, decode};
        let at = |e: String| ImageError::Decode(format!("core {i}: {e}"));
        let mut kept = kept.into_iter();
        let mut next = || kept.next().unwrap_or_default();
        count::<super::RowStart>(&next()).map_err(at)?;
        let synapses = count::<super::Synapse>(&next()).map_err(at)?;
        self.gap = decode(&next()).map_err(at)?;
        Ok(synapses as u64)
    }
}

impl Image {
    /// Writes the image file as [`Image::to_bytes`] would give it, streaming
    /// the payload (checksummed on the way) after a placeholder header that
    /// is filled in at the end: a large image is never held twice in memory
    /// (a 1.5 GB image took 15–30 s of page faults to build as one buffer).
    fn write_to_file(&self, path: &std::path::Path) -> std::io::Result<()> {
        use std::io::{Seek, SeekFrom, Write};
        let mut f = std::fs::File::create(path)?;
        f.write_all(&[0u8; HEADER_LEN])?;
        // Checksummed a buffer at a time, above the file: bincode writes field
        // by field, and a checksum update per field cost more than the encoding.
        let mut w = std::io::BufWriter::with_capacity(1 << 20, HashingWriter { inner: f, hasher: crc32fast::Hasher::new(), count: 0 });
        bincode::serde::encode_into_std_write(self, &mut w, bincode_config()).map_err(std::io::Error::other)?;
        let h = w.into_inner().map_err(|e| e.into_error())?;
        let (payload_len, crc, mut f) = (h.count, h.hasher.finalize(), h.inner);
        let mut h = [0u8; HEADER_LEN];
        h[0..8].copy_from_slice(&MAGIC);
        h[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
        h[16..24].copy_from_slice(&payload_len.to_le_bytes());
        h[24..28].copy_from_slice(&crc.to_le_bytes());
        f.seek(SeekFrom::Start(0))?;
        f.write_all(&h)
    }

    /// Encodes the image. Deterministic: equal images give equal bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Encoded in place after a placeholder header, into a buffer sized for
        // the bulk arrays, so that a large image is neither regrown nor copied.
        let bulk: usize = self.cores.iter().map(|c| 8 * (c.synapses.len() + c.rows.len()) + 64 * c.inputs.len()).sum();
        let mut out = Vec::with_capacity(HEADER_LEN + bulk + (1 << 16));
        out.resize(HEADER_LEN, 0);
        // invariant: writing into a Vec cannot fail, and every Image field is a plain serde type bincode encodes (no maps with unsupported keys)
        bincode::serde::encode_into_std_write(self, &mut out, bincode_config()).expect("an Image always encodes into a Vec");
        let payload_len = (out.len() - HEADER_LEN) as u64;
        let crc = crc32fast::hash(&out[HEADER_LEN..]);
        out[0..8].copy_from_slice(&MAGIC);
        out[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
        out[16..24].copy_from_slice(&payload_len.to_le_bytes());
        out[24..28].copy_from_slice(&crc.to_le_bytes());
        out
    }

    /// The CRC-32 of the image's payload, as its file's header holds it:
    /// equal images have equal checksums. Computed as the image is encoded,
    /// a buffer at a time, never holding the encoding.
    pub fn checksum(&self) -> u32 {
        let mut w = std::io::BufWriter::with_capacity(1 << 20, HashingWriter { inner: std::io::sink(), hasher: crc32fast::Hasher::new(), count: 0 });
        // invariant: as in to_bytes, every Image field encodes, and a sink never fails a write or a flush
        bincode::serde::encode_into_std_write(self, &mut w, bincode_config()).expect("an Image always encodes into a sink");
        // invariant: flushing into a sink cannot fail
        w.into_inner().map_err(|e| e.into_error()).expect("a sink flushes").hasher.finalize()
    }

    /// The payload checksum an image file's header holds ([`Image::checksum`]
    /// of the image it holds, which every read checks against the payload).
    pub fn file_checksum(path: &std::path::Path) -> Result<u32, ImageError> {
        use std::io::Read;
        let io = |source: std::io::Error| ImageError::Io { path: path.display().to_string(), source };
        let (mut f, file_len) = open_image(path)?;
        if file_len < HEADER_LEN as u64 {
            return Err(ImageError::TooShort { len: file_len as usize }.in_file(path));
        }
        let mut header = [0u8; HEADER_LEN];
        f.read_exact(&mut header).map_err(io)?;
        check_header(&header, file_len - HEADER_LEN as u64).map(|(_, crc)| crc).map_err(|e| e.in_file(path))
    }

    /// Decodes and validates an image.
    pub fn from_bytes(bytes: &[u8]) -> Result<Image, ImageError> {
        let img = Image::from_bytes_unvalidated(bytes)?;
        img.validate()?;
        Ok(img)
    }

    /// Checks the header and checksum and decodes, without [`Image::validate`]:
    /// for callers that validate next anyway (the emulator's `Machine::load`
    /// does), so that a large image is not checked twice.
    pub fn from_bytes_unvalidated(bytes: &[u8]) -> Result<Image, ImageError> {
        if bytes.len() < HEADER_LEN {
            return Err(ImageError::TooShort { len: bytes.len() });
        }
        // invariant: the length check just above returned TooShort for fewer than HEADER_LEN bytes
        let header: &[u8; HEADER_LEN] = bytes[..HEADER_LEN].try_into().expect("the slice is exactly HEADER_LEN bytes");
        let (len, crc) = check_header(header, (bytes.len() - HEADER_LEN) as u64)?;
        let payload = &bytes[HEADER_LEN..];
        debug_assert_eq!(payload.len() as u64, len);
        let found = crc32fast::hash(payload);
        if found != crc {
            return Err(ImageError::Checksum { expected: crc, found });
        }
        Image::decode_payload(payload)
    }

    /// Decodes a payload without the header checks or validation. Exposed so
    /// tests can feed corrupt payloads past the checksum.
    pub fn decode_payload(payload: &[u8]) -> Result<Image, ImageError> {
        fn decode<C: bincode::config::Config>(c: C, payload: &[u8]) -> Result<(Image, usize), bincode::error::DecodeError> {
            bincode::serde::decode_from_slice(payload, c)
        }
        // As a file is read (`read_file`): the packed arrays decoded last.
        let (decoded, kept) = crate::packed::deferred(|| with_tier!(payload.len(), decode, payload));
        let (mut img, used): (Image, usize) = decoded.map_err(decode_error)?;
        if used != payload.len() {
            return Err(ImageError::PayloadTrailing { extra: payload.len() - used });
        }
        img.unpack(kept, unpack_threads(payload.len() as u64), false)?;
        Ok(img)
    }

    pub fn read(path: &std::path::Path) -> Result<Image, ImageError> {
        let img = Image::read_unvalidated(path)?;
        img.validate().map_err(|e| e.in_file(path))?;
        Ok(img)
    }

    /// [`Image::from_bytes_unvalidated`] on a file's contents, decoded as the
    /// file is read (a large image is not held twice, as bytes and decoded):
    /// the same checks and the same errors, the checksum's first (a payload
    /// that fails to decode is read to its end, and a checksum mismatch is
    /// reported rather than the decoding error).
    pub fn read_unvalidated(path: &std::path::Path) -> Result<Image, ImageError> {
        Image::read_file(path, None, None).map(|(img, _, _)| img).map_err(|e| e.in_file(path))
    }

    /// An image file read and validated for the emulator ([`LoadImage`]):
    /// the same checks and errors as [`Image::read`].
    pub fn read_for_load(path: &std::path::Path) -> Result<LoadImage, ImageError> {
        Image::read_for_load_on(path, None)
    }

    /// As `read_for_load`, the file read on `threads` threads (`None`: the
    /// host's for a large file). The result is the same whatever the count
    /// (tested).
    #[doc(hidden)]
    pub fn read_for_load_on(path: &std::path::Path, threads: Option<usize>) -> Result<LoadImage, ImageError> {
        let (image, _, columns) = Image::read_file(path, None, Some(threads)).map_err(|e| e.in_file(path))?;
        image.validate_with(None, &columns).map_err(|e| e.in_file(path))?;
        Ok(LoadImage { image, columns })
    }

    /// One rank's part of an image file (see `part.rs`): the cores `keep`
    /// accepts (by index) whole, the others stripped as they are decoded;
    /// and every core's stored synapses. Checked as `read_unvalidated`
    /// checks the whole file; not validated.
    pub fn read_part(path: &std::path::Path, keep: &dyn Fn(usize) -> bool) -> Result<(Image, Vec<u64>), ImageError> {
        Image::read_file(path, Some(keep), None).map(|(img, stored, _)| (img, stored)).map_err(|e| e.in_file(path))
    }

    /// With `load` (and no `keep`), as `LoadImage` holds them, read on
    /// `load`'s threads (`read_whole`).
    fn read_file(path: &std::path::Path, keep: Option<&dyn Fn(usize) -> bool>, load: Option<Option<usize>>) -> Result<FileRead, ImageError> {
        use std::io::Read;
        let io = |source: std::io::Error| ImageError::Io { path: path.display().to_string(), source };
        let (mut f, file_len) = open_image(path)?;
        if file_len < HEADER_LEN as u64 {
            return Err(ImageError::TooShort { len: file_len as usize });
        }
        let mut header = [0u8; HEADER_LEN];
        f.read_exact(&mut header).map_err(io)?;
        let (len, crc) = check_header(&header, file_len - HEADER_LEN as u64)?;
        if let (Some(threads), None) = (load, keep) {
            return Image::read_whole(&f, path, len, crc, threads.unwrap_or_else(|| unpack_threads(len)));
        }
        // Checksummed a buffer at a time, below the buffer the decoder reads from.
        let mut r = std::io::BufReader::with_capacity(1 << 20, Hashing { inner: f.take(len), hasher: crc32fast::Hasher::new(), count: 0 });
        type Part = (Image, Vec<u64>);
        fn decode<C: bincode::config::Config, R: std::io::Read>(
            c: C,
            r: &mut std::io::BufReader<R>,
            keep: Option<&dyn Fn(usize) -> bool>,
        ) -> Result<Part, bincode::error::DecodeError> {
            match keep {
                None => bincode::serde::decode_from_std_read(r, c).map(|img| (img, Vec::new())),
                Some(keep) => {
                    use serde::de::DeserializeSeed;
                    let mut d = bincode::serde::OwnedSerdeDecoder::from_reader(r, c);
                    super::part::PartSeed { keep }.deserialize(d.as_deserializer())
                }
            }
        }
        // A whole image's packed arrays are kept as bytes while the file is
        // read, and decoded after, on several threads for a large image.
        let (decoded, kept): (Result<Part, _>, _) = match keep {
            None => crate::packed::deferred(|| with_tier!(len, decode, &mut r, keep)),
            Some(_) => (with_tier!(len, decode, &mut r, keep), Vec::new()),
        };
        let used = r.get_ref().count - r.buffer().len() as u64;
        // The rest, if the decoder stopped early: the checksum covers it all.
        std::io::copy(&mut r, &mut std::io::sink()).map_err(io)?;
        let h = r.into_inner();
        if h.count != len {
            return Err(ImageError::Truncated { expected: len, found: h.count });
        }
        let found = h.hasher.finalize();
        if found != crc {
            return Err(ImageError::Checksum { expected: crc, found });
        }
        let (mut img, stored) = decoded.map_err(decode_error)?;
        if used != len {
            return Err(ImageError::PayloadTrailing { extra: (len - used) as usize });
        }
        if keep.is_none() {
            img.unpack(kept, unpack_threads(len), false)?;
        }
        Ok((img, stored, Vec::new()))
    }

    /// `read_file` for a [`LoadImage`]: the payload read whole into one
    /// buffer, a stretch per thread for a large one (each checksummed as
    /// read), then decoded from it with the packed arrays left where they
    /// lie, the columns sharing the buffer (`packed::deferred_in`): the 1M
    /// ring's 390 MB were read through one reader and copied into an array
    /// each (0.32 s). The same checks and errors, in the same order.
    fn read_whole(f: &std::fs::File, path: &std::path::Path, len: u64, crc: u32, threads: usize) -> Result<FileRead, ImageError> {
        let io = |source: std::io::Error| ImageError::Io { path: path.display().to_string(), source };
        let n = usize::try_from(len).map_err(|_| ImageError::Decode(format!("a payload of {len} bytes does not fit this host's memory")))?;
        let threads = threads.max(1);
        let mut buf = vec![0u8; n];
        // Each stretch: the bytes read (fewer if the file ends early) and their checksum.
        let read = |at: usize, part: &mut [u8]| -> std::io::Result<(usize, crc32fast::Hasher)> {
            let mut done = 0;
            while done < part.len() {
                match read_at(f, &mut part[done..], (HEADER_LEN + at + done) as u64) {
                    Ok(0) => break,
                    Ok(k) => done += k,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            let mut h = crc32fast::Hasher::new();
            h.update(&part[..done]);
            Ok((done, h))
        };
        let stretch = n.div_ceil(threads).max(1);
        let parts: Vec<std::io::Result<(usize, crc32fast::Hasher)>> = if threads <= 1 {
            vec![read(0, &mut buf)]
        } else {
            std::thread::scope(|sc| {
                let hs: Vec<_> = buf.chunks_mut(stretch).enumerate().map(|(k, part)| sc.spawn(move || read(k * stretch, part))).collect();
                // invariant: reading has no panic path; a panic is a bug the join passes on
                hs.into_iter().map(|h| h.join().expect("a reading thread does not panic")).collect()
            })
        };
        let (mut found_len, mut hasher) = (0u64, crc32fast::Hasher::new());
        for p in parts {
            let (k, h) = p.map_err(io)?;
            found_len += k as u64;
            hasher.combine(&h);
        }
        if found_len != len {
            return Err(ImageError::Truncated { expected: len, found: found_len });
        }
        let found = hasher.finalize();
        if found != crc {
            return Err(ImageError::Checksum { expected: crc, found });
        }
        fn decode<C: bincode::config::Config>(c: C, payload: &[u8]) -> Result<(Image, usize), bincode::error::DecodeError> {
            bincode::serde::decode_from_slice(payload, c)
        }
        let (decoded, kept) = crate::packed::deferred_in(buf, |payload| with_tier!(len, decode, payload));
        let (mut img, used) = decoded.map_err(decode_error)?;
        if used != n {
            return Err(ImageError::PayloadTrailing { extra: n - used });
        }
        let cols = img.unpack(kept, threads, true)?;
        Ok((img, Vec::new(), cols))
    }

    /// Decodes the packed arrays `packed::deferred` kept while `self` was
    /// read: three per core, in field order (rows, synapses, gap junctions),
    /// on `threads` threads, each over a range of cores; the first error in
    /// core order, whatever the count. Each array's bytes are freed as it is
    /// decoded.
    /// With `columns`, as `CoreImage::unpack`: per core, its synapses'
    /// columns, if kept so.
    fn unpack(&mut self, kept: Vec<Bytes>, threads: usize, columns: bool) -> Result<Vec<Option<CoreColumns>>, ImageError> {
        const PER_CORE: usize = CoreImage::PACKED;
        if kept.len() != PER_CORE * self.cores.len() {
            return Err(ImageError::Decode(format!("{} packed arrays for {} cores, not {PER_CORE} each", kept.len(), self.cores.len())));
        }
        let mut bytes_at = vec![0usize];
        for k in kept.chunks(PER_CORE) {
            bytes_at.push(bytes_at[bytes_at.len() - 1] + k.iter().map(|b| b.len()).sum::<usize>());
        }
        let cut = crate::cuts(&bytes_at, threads.max(1));
        let mut kept = kept.into_iter();
        let mut rest: &mut [CoreImage] = &mut self.cores;
        let mut parts = Vec::with_capacity(cut.len() - 1);
        for w in cut.windows(2) {
            let (mine, more) = std::mem::take(&mut rest).split_at_mut(w[1] - w[0]);
            parts.push((w[0], mine, kept.by_ref().take(PER_CORE * (w[1] - w[0])).collect::<Vec<_>>()));
            rest = more;
        }
        type Cols = Vec<Option<CoreColumns>>;
        let run = |(first, cores, kept): (usize, &mut [CoreImage], Vec<Bytes>)| -> Result<Cols, ImageError> {
            let mut kept = kept.into_iter();
            cores.iter_mut().enumerate().map(|(i, c)| c.unpack(&mut kept, first + i, columns)).collect()
        };
        let done: Vec<Result<Cols, ImageError>> = if parts.len() <= 1 {
            parts.into_iter().map(run).collect()
        } else {
            std::thread::scope(|sc| {
                let hs: Vec<_> = parts.into_iter().map(|p| sc.spawn(move || run(p))).collect();
                // invariant: decoding has no panic path; a panic is a bug the join passes on
                hs.into_iter().map(|h| h.join().expect("an unpacking thread does not panic")).collect()
            })
        };
        let mut cols = Vec::with_capacity(if columns { self.cores.len() } else { 0 });
        for d in done {
            let d = d?;
            if columns {
                cols.extend(d);
            }
        }
        Ok(cols)
    }

    /// Writes the image whole (`crate::files::write_whole`): a failed write
    /// leaves no partial image (and an old one untouched); a device or FIFO
    /// is written into, not replaced.
    pub fn write(&self, path: &std::path::Path) -> Result<(), ImageError> {
        crate::files::write_whole(path, |to| {
            if crate::files::is_special(to) {
                // A pipe or device cannot seek back to the header: the bytes whole.
                std::fs::write(to, self.to_bytes())
            } else {
                self.write_to_file(to)
            }
        })
        .map_err(|source| ImageError::WriteIo { path: path.display().to_string(), source })
    }
}

/// A payload that does not decode, in words: an instruction's own check
/// (`Instr`'s deserializer) read as `OtherString("…")`, bincode's Debug.
fn decode_error(e: bincode::error::DecodeError) -> ImageError {
    ImageError::Decode(match e {
        bincode::error::DecodeError::OtherString(s) => s,
        e => e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::{GapEdge, RowStart, Synapse};

    /// An instruction's own refusal reads as its words: it read
    /// `OtherString("`add` does not use field imm, …")`.
    #[test]
    fn a_payload_error_reads_as_its_words() {
        let e = decode_error(bincode::error::DecodeError::OtherString("`add` does not use field imm, which must be zero (found 5)".into())).to_string();
        assert!(e.ends_with(": `add` does not use field imm, which must be zero (found 5)") && !e.contains("OtherString"), "{e}");
    }

    /// The sample's cores seven times over, each with its own rows,
    /// synapses and gap junctions (decoded only: need not be valid).
    fn many_cores() -> Image {
        let mut img = crate::sample::sample_image();
        let c = img.cores[1].clone();
        img.cores = (0..7u32)
            .map(|i| {
                let mut c = c.clone();
                c.rows = (0..i * 40).map(|k| RowStart { row: 3 * k + i, start: 2 * k }).collect();
                c.synapses = (0..i * 80)
                    .map(|k| Synapse { weight: k as i32 * 37 - 900 * i as i32, target: (k % 4) as u16, delay: 1 + (k % 3) as u8, port: 0 })
                    .collect();
                c.gap =
                    (0..i % 3).map(|k| GapEdge { src_core: crate::ids::CoreId(k), weight: -5, src_neuron: 1, target: 2, slot: 0, port: 1, shift: 3 }).collect();
                c
            })
            .collect();
        img
    }

    fn kept_of(img: &Image) -> (Image, Vec<Vec<u8>>) {
        let bytes = img.to_bytes();
        let payload = &bytes[HEADER_LEN..];
        let (decoded, kept) = crate::packed::deferred(|| bincode::serde::decode_from_slice::<Image, _>(payload, bincode_config()));
        (decoded.unwrap().0, kept.iter().map(|b| b.to_vec()).collect())
    }

    fn as_kept(kept: Vec<Vec<u8>>) -> Vec<Bytes> {
        kept.into_iter().map(Bytes::from).collect()
    }

    #[test]
    fn deferred_arrays_unpack_to_the_same_image_on_any_thread_count() {
        let img = many_cores();
        for threads in [1, 2, 3, 7, 20] {
            let (mut got, kept) = kept_of(&img);
            assert_eq!(kept.len(), 3 * img.cores.len());
            assert!(got.cores.iter().all(|c| c.synapses.is_empty()), "kept arrays decode as empty");
            got.unpack(as_kept(kept), threads, false).unwrap();
            assert_eq!(got, img, "{threads} threads");
        }
        assert_eq!(Image::decode_payload(&img.to_bytes()[HEADER_LEN..]).unwrap(), img);
        // Outside `deferred`, arrays decode in place.
        let (plain, _): (Image, usize) = bincode::serde::decode_from_slice(&img.to_bytes()[HEADER_LEN..], bincode_config()).unwrap();
        assert_eq!(plain, img);
    }

    /// `read_for_load` keeps a plain core's synapses in their columns and
    /// checks them as `read` does: the same image once decoded, and the same
    /// error for a bad synapse or a corrupt array, naming the same culprit.
    #[test]
    fn images_read_for_loading_hold_what_read_holds_and_fail_alike() {
        let path = std::env::temp_dir().join(format!("nerve-load-{}.img", std::process::id()));
        // Read whole on one thread and in stretches on three (across
        // arrays and fields), and as the loader chooses.
        let on = [None, Some(1), Some(3)];
        let both = |img: &Image| {
            img.write(&path).unwrap();
            let r = (Image::read(&path), on.map(|t| Image::read_for_load_on(&path, t)));
            let _ = std::fs::remove_file(&path);
            r
        };
        let img = crate::sample::sample_image();
        let (want, got) = both(&img);
        let want = want.unwrap();
        for got in got {
            let (image, cols) = got.unwrap().into_parts();
            let cols_in = cols.iter().flatten();
            assert!(cols_in.clone().map(|c| c.synapses.len()).sum::<usize>() > 0, "the sample's synapses stay in columns");
            assert!(cols_in.clone().all(|c| c.rows.shares_a_buffer() && c.synapses.shares_a_buffer()), "the columns lie in the file's buffer, not copied");
            let got = LoadImage { image, columns: cols };
            assert_eq!(*got.into_valid(), want);
        }
        // A synapse past its core's neurons, past the weight bits either
        // way, a delay of 0, a port the kernel lacks: the validation
        // errors, word for word (the columns' bounds fail, and the
        // synapses are then checked one by one).
        let n = img.cores[1].n_neurons as u16;
        let bad: [&dyn Fn(&mut Synapse); 5] = [&|s| s.target = n, &|s| s.weight = 1 << 20, &|s| s.weight = -(1 << 20), &|s| s.delay = 0, &|s| s.port = 200];
        for f in bad {
            let mut b = img.clone();
            f(&mut b.cores[1].synapses[3]);
            let (want, got) = both(&b);
            let want = want.expect_err("an invalid synapse").to_string();
            for got in got {
                assert_eq!(got.err().map(|e| e.to_string()), Some(want.clone()));
            }
            assert!(want.contains("synapse 3"), "{want}");
        }
        // Files that fail, whatever reads them: the same error, word for word.
        let good = img.to_bytes();
        let with_crc = |mut b: Vec<u8>| {
            let crc = crc32fast::hash(&b[HEADER_LEN..]);
            b[24..28].copy_from_slice(&crc.to_le_bytes());
            b
        };
        // A corrupt synapse array (a base past the target's 16 bits), in a
        // payload whose checksum is right: decoding errors.
        let mut corrupt = good.clone();
        let arr = crate::packed::encode(&img.cores[1].synapses);
        let at = HEADER_LEN + corrupt[HEADER_LEN..].windows(arr.len()).position(|w| w == arr).expect("the array is in the payload");
        // Field 1 (target): its base, after field 0's width and base.
        corrupt[at + 10..at + 18].copy_from_slice(&70_000u64.to_le_bytes());
        // A payload with bytes past the image, its length and checksum right.
        let mut longer = good.clone();
        longer.extend_from_slice(&[7, 7, 7]);
        let payload_len = (longer.len() - HEADER_LEN) as u64;
        longer[16..24].copy_from_slice(&payload_len.to_le_bytes());
        let mut flipped = good.clone();
        flipped[HEADER_LEN + 100] ^= 1;
        let mut junk_after = good.clone();
        junk_after.push(0);
        let cases = [
            (with_crc(corrupt), "core 1: packed synapse records: field target holds a value above its 2-byte range"),
            (with_crc(longer), "bytes"),
            (flipped, "checksum"),
            (good[..good.len() - 5].to_vec(), "truncated"),
            (junk_after, "bytes"),
        ];
        for (bytes, says) in cases {
            std::fs::write(&path, &bytes).unwrap();
            let want = Image::read(&path).expect_err("a bad file").to_string();
            assert!(want.to_lowercase().contains(says), "{want}");
            for t in on {
                assert_eq!(Image::read_for_load_on(&path, t).err().map(|e| e.to_string()), Some(want.clone()), "{says}, {t:?} threads");
            }
        }
        let _ = std::fs::remove_file(&path);
    }

    /// A part decodes the arrays of the cores it keeps; of the others only
    /// the gap junctions (every rank keeps them), their synapses counted.
    #[test]
    fn parts_count_the_synapses_of_stripped_cores_and_keep_their_gap_junctions() {
        let img = many_cores();
        let path = std::env::temp_dir().join(format!("nerve-part-{}.img", std::process::id()));
        img.write(&path).unwrap();
        let keep = |i: usize| i % 2 == 1;
        let (part, stored) = Image::read_part(&path, &keep).unwrap();
        let _ = std::fs::remove_file(&path);
        let mut want = img.clone();
        want.strip_except(&keep);
        assert_eq!(part, want);
        assert!(part.cores.iter().enumerate().any(|(i, c)| !keep(i) && !c.gap.is_empty()), "a stripped core with gap junctions");
        assert_eq!(stored, img.cores.iter().map(|c| c.stored_synapses()).collect::<Vec<_>>());
        assert!(stored.iter().sum::<u64>() > 0);
    }

    #[test]
    fn the_first_corrupt_array_in_core_order_is_reported_on_any_thread_count() {
        let img = many_cores();
        for threads in [1, 2, 3, 7] {
            let (mut got, mut kept) = kept_of(&img);
            // Core 2's synapses and core 5's rows: a width beyond the field's size.
            kept[3 * 2 + 1][0] = 9;
            kept[3 * 5][0] = 9;
            let e = got.unpack(as_kept(kept), threads, false).expect_err("a corrupt array").to_string();
            assert!(e.contains("core 2:") && e.contains("field weight is 9 bytes wide"), "{threads} threads: {e}");
        }
        let (mut got, mut kept) = kept_of(&img);
        kept.pop();
        let e = got.unpack(as_kept(kept), 2, false).expect_err("an array missing").to_string();
        assert!(e.contains("20 packed arrays for 7 cores"), "{e}");
    }
}
