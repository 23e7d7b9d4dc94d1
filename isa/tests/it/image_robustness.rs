//! The image format: byte-identical round trips, and no panic on any corruption.

use nerve_isa::image::{Image, ImageError, HEADER_LEN};
use nerve_isa::sample::sample_image;

#[test]
fn sample_is_valid_and_roundtrips_byte_identically() {
    let img = sample_image();
    img.validate().unwrap();
    let bytes = img.to_bytes();
    let back = Image::from_bytes(&bytes).unwrap();
    assert_eq!(back, img);
    assert_eq!(back.to_bytes(), bytes);
}

/// `Image::write` streams the payload and fills the header in last: the
/// file holds exactly `to_bytes`, and reads back as the same image.
#[test]
fn written_files_are_to_bytes_exactly() {
    let img = sample_image();
    let path = std::env::temp_dir().join(format!("nerve-isa-write-{}.img", std::process::id()));
    img.write(&path).unwrap();
    let file = std::fs::read(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    assert_eq!(file, img.to_bytes());
    assert_eq!(nerve_isa::image::Image::from_bytes(&file).unwrap(), img);
}

/// `checksum` is the CRC-32 a file's header holds, and `file_checksum`
/// reads it back; another image has another (ranks agree on it).
#[test]
fn the_checksum_is_the_files() {
    let img = sample_image();
    let bytes = img.to_bytes();
    assert_eq!(img.checksum().to_le_bytes(), bytes[24..28]);
    assert_eq!(img.checksum(), crc32fast::hash(&bytes[HEADER_LEN..]));
    let path = std::env::temp_dir().join(format!("nerve-isa-checksum-{}.img", std::process::id()));
    img.write(&path).unwrap();
    let from_file = Image::file_checksum(&path);
    std::fs::write(&path, &bytes[..HEADER_LEN - 1]).unwrap();
    let short = Image::file_checksum(&path);
    let _ = std::fs::remove_file(&path);
    assert_eq!(from_file.unwrap(), img.checksum());
    assert!(matches!(short, Err(ImageError::InFile { .. })) && short.unwrap_err().to_string().contains("nerve-isa-checksum"));
    let mut other = img.clone();
    other.meta.network.push('x');
    assert_ne!(other.checksum(), img.checksum());
}

#[test]
fn every_truncation_is_a_typed_error() {
    let bytes = sample_image().to_bytes();
    for len in 0..bytes.len() {
        match Image::from_bytes(&bytes[..len]) {
            Err(ImageError::TooShort { .. }) | Err(ImageError::Truncated { .. }) => {}
            other => panic!("truncated at {len}: {other:?}"),
        }
    }
    // Truncated payloads that get past the header (as if the length were fixed up) still fail cleanly.
    let payload = &bytes[HEADER_LEN..];
    for len in 0..payload.len() {
        assert!(Image::decode_payload(&payload[..len]).is_err(), "payload truncated at {len} decoded");
    }
}

#[test]
fn every_single_byte_flip_is_an_error_or_a_valid_image() {
    let bytes = sample_image().to_bytes();
    for i in 0..bytes.len() {
        for pattern in [0x01u8, 0x80, 0xff] {
            let mut b = bytes.clone();
            b[i] ^= pattern;
            // Through the checksum: every flip is caught.
            assert!(Image::from_bytes(&b).is_err(), "flip at {i} passed the checksum");
            // Past the checksum: decode + validate must not panic.
            if i >= HEADER_LEN {
                if let Ok(img) = Image::decode_payload(&b[HEADER_LEN..]) {
                    let _ = img.validate();
                }
            }
        }
    }
}

#[test]
fn lying_length_fields_do_not_allocate() {
    // A payload that claims a huge vector right at the start: the name string of the arch.
    let mut payload = vec![0xfdu8]; // bincode varint marker for a u64 length follows
    payload.extend_from_slice(&(u64::MAX / 2).to_le_bytes());
    payload.extend_from_slice(&[0u8; 16]);
    assert!(Image::decode_payload(&payload).is_err());
    // A header that claims a payload far larger than the file.
    let mut bytes = sample_image().to_bytes();
    bytes[16..24].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(matches!(Image::from_bytes(&bytes), Err(ImageError::Truncated { .. })));
}

#[test]
fn header_errors_are_specific() {
    let bytes = sample_image().to_bytes();
    let mut b = bytes.clone();
    b[0] = b'X';
    assert!(matches!(Image::from_bytes(&b), Err(ImageError::BadMagic { .. })));
    let mut b = bytes.clone();
    b[8] = 99;
    let e = Image::from_bytes(&b).unwrap_err();
    assert!(matches!(e, ImageError::UnsupportedVersion { found: 99 }), "{e}");
    assert!(e.to_string().contains("the image is newer than this nerve"), "{e}");
    b[8..12].copy_from_slice(&1u32.to_le_bytes());
    let e = Image::from_bytes(&b).unwrap_err();
    assert!(e.to_string().contains("compile the network again with this nerve") && !e.to_string().contains("newer"), "{e}");
    let mut b = bytes.clone();
    b.push(0);
    assert!(matches!(Image::from_bytes(&b), Err(ImageError::TrailingBytes { extra: 1 })));
    let mut b = bytes.clone();
    let last = b.len() - 1;
    b[last] ^= 1;
    assert!(matches!(Image::from_bytes(&b), Err(ImageError::Checksum { .. })));
}

#[test]
fn validate_names_the_culprit_and_the_limit() {
    use nerve_isa::image::*;
    let mut img = sample_image();
    img.cores[1].synapses[0].delay = 9;
    let e = img.validate().unwrap_err().to_string();
    assert!(e.contains("delay 9") && e.contains("1..=4"), "{e}");

    let mut img = sample_image();
    img.cores[1].synapses[0].weight = 200;
    let e = img.validate().unwrap_err().to_string();
    assert!(e.contains("weight 200") && e.contains("8 signed bits"), "{e}");

    let mut img = sample_image();
    let e0 = img.routers[0].entries[0];
    img.routers[0].entries = vec![e0; 17];
    let e = img.validate().unwrap_err().to_string();
    assert!(e.contains("routing entries on tile0") && e.contains("needs 17") && e.contains("limit is 16"), "{e}");

    // Links the topology lacks, a direction's and bits that are none.
    for (links, says) in [(0x40u8, "link(s) bit 6 do not exist"), (0xc0, "link(s) bit 6,bit 7 do not exist")] {
        let mut img = sample_image();
        img.routers[1].entries[0].links = links;
        let e = img.validate().unwrap_err().to_string();
        assert!(e.contains(says), "{e}");
    }

    // A route to a core the tile lacks, in the first word of the mask and past it.
    for past in [0, 200] {
        let mut img = sample_image();
        let n = img.arch.cores_per_tile();
        img.routers[1].entries[0].cores.insert(n + past);
        let e = img.validate().unwrap_err().to_string();
        assert!(e.contains(&format!("routes to core {}, past the tile's {n} cores", n + past)), "{e}");
    }

    // A route to a core of the tile that the image does not use: the
    // emulator refused it at load, inspect and disasm took the image.
    let mut img = sample_image();
    let used: Vec<u32> = img.cores.iter().map(|c| img.arch.local_core(c.core)).collect();
    let tile = img.routers[1].tile;
    let free = (0..img.arch.cores_per_tile()).find(|k| !img.cores.iter().any(|c| c.core == img.arch.core_at(tile, *k))).unwrap();
    img.routers[1].entries[0].cores.insert(free);
    let e = img.validate().unwrap_err().to_string();
    assert!(e.contains(&format!("routes to {}, which the image does not use", img.arch.core_at(tile, free))), "{e} ({used:?})");

    // Values and text that reach a report or disasm as they are.
    let mut img = sample_image();
    img.populations[1].vars[0].scale = f64::NAN;
    let e = img.validate().unwrap_err().to_string();
    assert!(e.contains("has scale NaN") && e.contains("a nonzero scale"), "{e}");
    let mut img = sample_image();
    img.populations[1].model = "a,\n".into();
    let e = img.validate().unwrap_err().to_string();
    assert!(e.contains("holds control characters"), "{e}");
    let mut img = sample_image();
    img.populations[1].vars[0].unit = "m\nV".into();
    assert!(img.validate().is_err());

    let mut img = sample_image();
    img.cores[1].n_neurons = 17;
    let e = img.validate().unwrap_err().to_string();
    assert!(e.contains("neurons on core4") && e.contains("limit is 16"), "{e}");

    let mut img = sample_image();
    img.cores[1].inputs[0].row = 2;
    let e = img.validate().unwrap_err().to_string();
    assert!(e.contains("row 0 is reached by no input entry"), "{e}");
    // Past the last entry's rows: the first such row is named.
    let mut img = sample_image();
    img.cores[1].inputs[0].count = 1;
    let e = img.validate().unwrap_err().to_string();
    assert!(e.contains("row 1 is reached by no input entry"), "{e}");

    let mut img = sample_image();
    if let CoreKind::Neuron { kernel, .. } = &mut img.cores[1].kind {
        *kernel = nerve_isa::ids::KernelId(3);
    }
    let e = img.validate().unwrap_err().to_string();
    assert!(e.contains("kernel3"), "{e}");

    let mut img = sample_image();
    img.populations[1].size = 5;
    let e = img.validate().unwrap_err().to_string();
    assert!(e.contains("size 5"), "{e}");

    // The core's input keys are its rows (each reached by one entry); its
    // entries and synaptic words, each against the profile's limit.
    let img = sample_image();
    let rows = img.cores[1].rows.len() as u32;
    assert!(rows > 1, "the test needs rows");
    type SetLimit<'a> = &'a dyn Fn(&mut nerve_isa::arch::Arch);
    let limits: [(SetLimit, String); 3] = [
        (&|a| a.core.max_input_keys = Some(rows - 1), format!("input keys (axons) on core4 needs {rows}, the limit is {}", rows - 1)),
        (&|a| a.core.max_input_table_entries = Some(1), "input-table entries on core4 needs 2, the limit is 1".to_string()),
        (&|a| a.core.synapse_words = 1, "synaptic memory words on core4".to_string()),
    ];
    for (set, says) in limits {
        let mut img = sample_image();
        // Its rows reached by two entries (a profile's limit of 0 entries is refused as a profile).
        let e = img.cores[1].inputs[0];
        img.cores[1].inputs = vec![
            nerve_isa::image::InputEntry { mask: !1, count: 2, ..e },
            nerve_isa::image::InputEntry { key: nerve_isa::ids::RoutingKey(e.key.0 + 2), mask: !1, row: e.row + 2, count: 1 },
        ];
        img.validate().unwrap();
        set(&mut img.arch);
        let e = img.validate().unwrap_err().to_string();
        assert!(e.contains(&says), "{e}");
    }
    let mut img = sample_image();
    img.arch.core.max_input_keys = Some(rows);
    img.validate().unwrap();
}

/// What the reports write unquoted or read back (names, labels, variables,
/// the timestep) is checked in an image as in a network: a hand-edited image
/// cannot break a recording's CSV or print every spike time as 0.
#[test]
fn names_and_timesteps_a_report_cannot_write_are_refused() {
    type Edit<'a> = &'a dyn Fn(&mut nerve_isa::Image);
    let cases: [(Edit, &str); 11] = [
        (&|i| i.meta.network = "a\u{7}b".into(), "network name \"a\\u{7}b\" holds '\\u{7}'"),
        (&|i| i.meta.network = String::new(), "a network name cannot be empty"),
        (&|i| i.meta.network = "n".repeat(300), "300 characters, beyond 256"),
        (&|i| i.populations[1].name = "p\u{FFFF}".into(), "population name \"p\\u{ffff}\" holds '\\u{ffff}'"),
        (&|i| i.meta.dt_ms = 1e-9, "dt_ms = 0.000000001 is outside 1e-6..=1e4 ms"),
        (&|i| i.meta.dt_ms = 1e99, "is outside 1e-6..=1e4 ms"),
        (&|i| i.meta.dt_ms = f64::NAN, "dt_ms = NaN is outside"),
        (&|i| i.populations[1].name = "a,b".into(), "population name \"a,b\" holds ','"),
        (&|i| i.populations[1].name = "a\nb".into(), "population name \"a\\nb\" holds '\\n'"),
        (&|i| i.populations[1].labels = vec!["x".into(), "y".into(), "p,q".into(), "z".into()], "neuron 2: label \"p,q\""),
        (
            &|i| {
                let v = i.populations[1].vars.first_mut().expect("the sample's IF population names its variables");
                v.name = "v:0".into();
            },
            "variable name \"v:0\"",
        ),
    ];
    for (edit, says) in cases {
        let mut img = sample_image();
        edit(&mut img);
        let e = img.validate().unwrap_err().to_string();
        assert!(e.contains(says), "{says}: {e}");
    }
    // At the range's ends, and a labelled population, still valid.
    for dt in [1e-6, 1e4] {
        let mut img = sample_image();
        img.meta.dt_ms = dt;
        img.validate().unwrap();
    }
    let mut img = sample_image();
    img.populations[1].labels = vec!["x".into(), "y".into(), "a:b".into(), "z".into()];
    img.validate().unwrap();
}

#[test]
fn routing_trace_of_the_sample() {
    use nerve_isa::ids::{RoutingKey, TileId};
    let img = sample_image();
    let t = img.trace(TileId(0), RoutingKey(0x102)).unwrap();
    assert_eq!(t.cores, vec![img.cores[1].core]);
    assert_eq!(t.hops.len(), 1);
    assert_eq!(t.depth, vec![1]);
    // Key 0x200 has no entry on its source router.
    let e = img.trace(TileId(1), RoutingKey(0x200)).unwrap_err().to_string();
    assert!(e.contains("no routing entry"), "{e}");
    // A core whose keys go nowhere makes the image invalid.
    let mut bad = img.clone();
    bad.cores[1].key_base = Some(RoutingKey(0x200));
    let e = bad.validate().unwrap_err().to_string();
    assert!(e.contains("0x00000200") && e.contains("goes nowhere"), "{e}");
    // The input lookup finds rows by key offset.
    assert_eq!(img.cores[1].lookup(RoutingKey(0x102)), Some(2));
    assert_eq!(img.cores[1].lookup(RoutingKey(0x103)), None);
    assert_eq!(img.cores[1].lookup(RoutingKey(0x0ff)), None);
}

/// Reading a file decodes as it reads (`Image::read_unvalidated`); it must
/// agree with decoding the same bytes in memory: the same image, or the same
/// error, for every truncation, every single-byte flip, appended bytes, and
/// a checksummed payload with bytes after the image.
#[test]
fn files_read_as_streamed_agree_with_bytes_in_memory() {
    let dir = std::env::temp_dir().join(format!("nerve-image-stream-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("x.img");
    let both = |b: &[u8]| -> (String, String) {
        std::fs::write(&path, b).unwrap();
        let show = |r: Result<Image, ImageError>| match r {
            Ok(img) => format!("ok {:?}", img.to_bytes()),
            Err(e) => format!("error {e}"),
        };
        // A file's errors are the same, named with the file.
        let file = match Image::read_unvalidated(&path) {
            Err(ImageError::InFile { path: p, error }) => {
                assert_eq!(p, path.display().to_string());
                Err(*error)
            }
            r => r,
        };
        (show(Image::from_bytes_unvalidated(b)), show(file))
    };
    let bytes = sample_image().to_bytes();
    let (mem, file) = both(&bytes);
    assert!(mem.starts_with("ok"), "{mem}");
    assert_eq!(mem, file);
    for len in 0..bytes.len() {
        let (mem, file) = both(&bytes[..len]);
        assert_eq!(mem, file, "truncated at {len}");
    }
    for i in 0..bytes.len() {
        let mut b = bytes.clone();
        b[i] ^= 0x01;
        let (mem, file) = both(&b);
        assert!(mem.starts_with("error"), "flip at {i}");
        assert_eq!(mem, file, "flip at {i}");
    }
    let mut longer = bytes.clone();
    longer.push(0);
    let (mem, file) = both(&longer);
    assert!(mem.contains("trailing") || mem.contains("after"), "{mem}");
    assert_eq!(mem, file);
    // A payload with one byte after the image, under a correct header and checksum.
    let mut extra = bytes[HEADER_LEN..].to_vec();
    extra.push(7);
    let mut b = bytes[..HEADER_LEN].to_vec();
    b[16..24].copy_from_slice(&(extra.len() as u64).to_le_bytes());
    b[24..28].copy_from_slice(&crc32fast::hash(&extra).to_le_bytes());
    b.extend_from_slice(&extra);
    let (mem, file) = both(&b);
    assert!(mem.starts_with("error"), "{mem}");
    assert_eq!(mem, file);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A row whose start goes backwards is named as unsorted (its length is not
/// computed first: that was 2^64 − 5 synapses "over the limit", or a panic).
#[test]
fn rows_whose_starts_go_backwards_are_unsorted() {
    let mut img = sample_image();
    let rows = &mut img.cores[1].rows;
    rows[2].start = rows[1].start - 3;
    let e = img.validate().unwrap_err();
    assert!(matches!(e, ImageError::Invalid { .. }), "{e}");
    let e = e.to_string();
    assert!(e.contains("core4: rows 1 and 2 are unsorted or empty (they start at synapses 4 and 1)"), "{e}");
}

/// Rows are 32-bit: an input entry may address rows up to 2^32 − 1 and no
/// further (past it the emulator's row ranges wrapped and dropped synapses).
#[test]
fn input_entries_address_rows_below_2_to_the_32() {
    let renumber = |first: u32| {
        let mut img = sample_image();
        let c = &mut img.cores[1];
        c.inputs[0].row = first;
        for (k, r) in c.rows.iter_mut().enumerate() {
            r.row = first.wrapping_add(k as u32);
        }
        img
    };
    // Rows u32::MAX − 2 ..= u32::MAX: the last row there is.
    renumber(u32::MAX - 2).validate().unwrap();
    let mut img = renumber(u32::MAX - 2);
    img.cores[1].inputs[0].row = u32::MAX - 1;
    img.cores[1].rows.truncate(2);
    img.cores[1].rows[0].row = u32::MAX - 1;
    img.cores[1].rows[1].row = u32::MAX;
    img.cores[1].synapses.truncate(8);
    let e = img.validate().unwrap_err().to_string();
    assert!(e.contains("core4: input entry 0 addresses rows 4294967294..4294967297, past the last row number 4294967295"), "{e}");
}

/// The sample with its IF core's rows given by a shared kernel: a 1 × 3
/// convolution (padding 1) of the 4-wide source row onto the core's 4
/// neurons; the source's 3 keys address rows 0..3.
fn conv_sample() -> Image {
    use nerve_isa::image::{ConvGeometry, ConvRows};
    let mut img = sample_image();
    let c = &mut img.cores[1];
    c.rows.clear();
    c.synapses.clear();
    c.conv.push(ConvRows {
        input: 0,
        neuron_bits: 32,
        pre_slice: 4,
        geom: ConvGeometry { in_shape: [1, 1, 4], out_shape: [1, 1, 4], kernel: [1, 3], stride: [1, 1], padding: [0, 1], dilation: [1, 1], groups: 1 },
        weights: vec![10, 20, 30],
        delay: 1,
        port: 0,
        post_first: 0,
    });
    img
}

/// An entry of `count` rows from row `row` with key `key`, for the sample's core 4.
fn entry(key: u32, count: u32, row: u32) -> nerve_isa::image::InputEntry {
    nerve_isa::image::InputEntry { key: nerve_isa::ids::RoutingKey(key), mask: !(count - 1), row, count }
}

#[test]
fn conv_sample_generates_its_rows() {
    let img = conv_sample();
    img.validate().unwrap();
    let (rows, syn) = img.cores[1].expanded();
    assert_eq!(rows.iter().map(|r| (r.row, r.start)).collect::<Vec<_>>(), [(0, 0), (1, 2), (2, 5)]);
    assert_eq!(syn.iter().map(|s| (s.target, s.weight)).collect::<Vec<_>>(), [(1, 10), (0, 20), (2, 10), (1, 20), (0, 30), (3, 10), (2, 20), (1, 30)]);
}

/// Stride and dilation are bounded as in a network (2^20), and a tap's
/// offset is computed in 64 bits: kx = 2 at dilation 2^31 was 2^32, 0 in 32
/// bits, a synapse that does not exist.
#[test]
fn conv_dilation_is_bounded_and_does_not_wrap() {
    let mut img = conv_sample();
    img.cores[1].conv[0].geom.dilation = [1, 1 << 31];
    let e = img.validate().unwrap_err();
    assert!(matches!(e, ImageError::Invalid { .. }), "{e}");
    let e = e.to_string();
    assert!(e.contains("core4: kernel rows 0: stride [1, 1] or dilation [1, 2147483648]: 2147483648 is beyond 1048576"), "{e}");
    let mut img = conv_sample();
    img.cores[1].conv[0].geom.stride = [(1 << 20) + 1, 1];
    let e = img.validate().unwrap_err().to_string();
    assert!(e.contains("1048577 is beyond 1048576"), "{e}");
    // Row 1 (source x = 1) reaches x = 2 through tap 0 only.
    let k = &img.cores[1].conv[0];
    let k = nerve_isa::image::ConvRows { geom: nerve_isa::image::ConvGeometry { dilation: [1, 1 << 31], stride: [1, 1], ..k.geom }, ..k.clone() };
    let mut out = Vec::new();
    k.row(1, 4, &mut out);
    assert_eq!(out.iter().map(|s| (s.target, s.weight)).collect::<Vec<_>>(), [(2, 10)]);
}

/// Only the rows of shared-kernel entries that stand for a source neuron
/// are generated (an entry addressing 2^25 rows of a 1-neuron source has
/// one); a core whose entries address more than 2^28 such rows is refused,
/// naming the entry and the limit (a 12 KB image took 33 s and 1.7 GB).
#[test]
fn conv_rows_addressed_are_bounded() {
    use nerve_isa::image::{ConvGeometry, MAX_ADDRESSED_ROWS};
    let mut img = conv_sample();
    let c = &mut img.cores[1];
    for i in 1..=4u32 {
        c.inputs.push(entry(i << 28, 1 << 25, i << 25));
        let mut k = c.conv[0].clone();
        k.input = i;
        k.pre_slice = 1;
        k.geom = ConvGeometry { in_shape: [1, 1, 1], kernel: [1, 1], padding: [0, 0], ..k.geom };
        k.weights = vec![i as i32];
        c.conv.push(k);
    }
    img.validate().unwrap();
    let (rows, syn) = img.cores[1].expanded();
    assert_eq!(rows.len(), 3 + 4);
    assert_eq!(syn.len(), 8 + 4);
    // Source neurons enough for every row: 4 × 2^26 + 3 rows.
    let c = &mut img.cores[1];
    for i in 1..=4usize {
        c.inputs[i] = entry((i as u32) << 28, 1 << 26, (i as u32) << 26);
        c.conv[i].pre_slice = 1 << 26;
        c.conv[i].geom.in_shape = [1, 1 << 10, 1 << 16];
    }
    let e = img.validate().unwrap_err();
    assert!(matches!(e, ImageError::Invalid { .. }), "{e}");
    let e = e.to_string();
    let want = format!(
        "core4: kernel rows 4 (input entry 4, 67108864 rows) bring the rows its shared kernels address to {}, at most {MAX_ADDRESSED_ROWS} a core",
        (1u64 << 28) + 3
    );
    assert!(e.contains(&want), "{e}");
}

/// `nerve inspect` counts a shared-kernel core's generated synapses and rows,
/// as the compile and run reports do (it counted the stored ones: none).
#[test]
fn stats_count_the_synapses_shared_kernels_generate() {
    let img = conv_sample();
    let s = nerve_isa::stats::ImageStats::of(&img);
    let (rows, syn) = img.cores[1].expanded();
    assert_eq!((s.cores[1].synapses, s.cores[1].input_keys, s.cores[1].rows), (syn.len() as u64, rows.len() as u64, rows.len() as u32));
    assert_eq!((s.cores[1].synapses, s.cores[1].input_keys), (8, 3));
    assert_eq!(s.total_synapses, 8);
    assert_eq!(s.chips.iter().map(|c| c.synapses).sum::<u64>(), 8);
    // A plain core's stored rows, as before.
    let s = nerve_isa::stats::ImageStats::of(&sample_image());
    assert_eq!((s.total_synapses, s.cores[1].input_keys), (12, 3));
}
