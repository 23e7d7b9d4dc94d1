//! NPY (format 1.0) arrays for exports' bulk data, readable by `numpy.load`.

/// An NPY file of a 2-D little-endian float64 array, rows × cols.
pub fn f64_2d(rows: usize, cols: usize, data: &[f64]) -> Vec<u8> {
    debug_assert_eq!(rows * cols, data.len());
    let mut out = header(&format!("{{'descr': '<f8', 'fortran_order': False, 'shape': ({rows}, {cols}), }}"));
    out.reserve(data.len() * 8);
    for x in data {
        out.extend_from_slice(&x.to_le_bytes());
    }
    out
}

/// The header, padded so the data starts on a 64-byte boundary.
fn header(dict: &str) -> Vec<u8> {
    let mut h = dict.to_string();
    let total = 10 + h.len() + 1;
    h.push_str(&" ".repeat((64 - total % 64) % 64));
    h.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(h.len() as u16).to_le_bytes());
    out.extend_from_slice(h.as_bytes());
    out
}

/// An NPY file of a 2-D little-endian int64 array, rows × cols.
pub fn i64_2d(rows: usize, cols: usize, data: &[i64]) -> Vec<u8> {
    debug_assert_eq!(rows * cols, data.len());
    let mut out = header(&format!("{{'descr': '<i8', 'fortran_order': False, 'shape': ({rows}, {cols}), }}"));
    out.reserve(data.len() * 8);
    for x in data {
        out.extend_from_slice(&x.to_le_bytes());
    }
    out
}

/// An NPY file of a 1-D little-endian float64 array.
pub fn f64_1d(data: &[f64]) -> Vec<u8> {
    let mut out = header(&format!("{{'descr': '<f8', 'fortran_order': False, 'shape': ({},), }}", data.len()));
    out.reserve(data.len() * 8);
    for x in data {
        out.extend_from_slice(&x.to_le_bytes());
    }
    out
}

/// An NPY file of a 1-D little-endian uint16 array.
pub fn u16_1d(data: &[u16]) -> Vec<u8> {
    let mut out = header(&format!("{{'descr': '<u2', 'fortran_order': False, 'shape': ({},), }}", data.len()));
    out.reserve(data.len() * 2);
    for x in data {
        out.extend_from_slice(&x.to_le_bytes());
    }
    out
}

/// NPY files of a projection's synapses as a CSR matrix by pre neuron:
/// row starts (`n_pre + 1` little-endian uint64) and post neurons (uint32),
/// half the bytes of (pre, post) pairs.
pub fn csr(sy: &crate::net::expand::Synapses) -> (Vec<u8>, Vec<u8>) {
    let mut indptr = header(&format!("{{'descr': '<u8', 'fortran_order': False, 'shape': ({},), }}", sy.indptr.len()));
    for x in &sy.indptr {
        indptr.extend_from_slice(&x.to_le_bytes());
    }
    let mut post = header(&format!("{{'descr': '<u4', 'fortran_order': False, 'shape': ({},), }}", sy.post.len()));
    post.reserve(sy.post.len() * 4);
    for x in &sy.post {
        post.extend_from_slice(&x.to_le_bytes());
    }
    (indptr, post)
}
