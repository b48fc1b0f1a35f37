//! The `ImageTransformer` contract, written once and run against every adapter (so far the
//! `image`-crate adapter, `RasterImageTransformer`).
//!
//! Inputs are made here, pixel by pixel, and encoded with the `image` crate; metadata (EXIF
//! orientation, a description that stands for GPS data, PNG text) is spliced into the encoded
//! bytes by hand, so the tests know exactly what each input carries.

use std::sync::Arc;

use image::{GenericImageView, ImageEncoder, Rgb, RgbImage, Rgba, RgbaImage};
use portability::{
    Fit, ImageFormat, ImageTransformer, Overlay, PortabilityError, RasterImageTransformer,
    RgbaLayer, TransformRequest, Trim,
};

type Transformer = Arc<dyn ImageTransformer>;

const RED: [u8; 3] = [220, 30, 30];
const GREEN: [u8; 3] = [30, 200, 60];
const BLUE: [u8; 3] = [30, 60, 220];
const YELLOW: [u8; 3] = [230, 210, 40];
/// Stands for the GPS position and camera serial a phone writes into EXIF.
const SECRET: &[u8] = b"GPS 52.5200N 13.4050E serial 0xC0FFEE";

// ---------------------------------------------------------------------------------------------
// Fixtures

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
    chunk.extend_from_slice(kind);
    chunk.extend_from_slice(data);
    let mut crc_input = kind.to_vec();
    crc_input.extend_from_slice(data);
    chunk.extend_from_slice(&crc32(&crc_input).to_be_bytes());
    chunk
}

/// An image whose left half is `left` and right half `right`.
fn halves(width: u32, height: u32, left: [u8; 3], right: [u8; 3]) -> RgbImage {
    RgbImage::from_fn(width, height, |x, _| {
        Rgb(if x < width / 2 { left } else { right })
    })
}

/// A 2×2 grid of solid quadrants: red, green / blue, yellow.
fn quadrants(size: u32) -> RgbImage {
    RgbImage::from_fn(size, size, |x, y| {
        Rgb(match (x < size / 2, y < size / 2) {
            (true, true) => RED,
            (false, true) => GREEN,
            (true, false) => BLUE,
            (false, false) => YELLOW,
        })
    })
}

fn jpeg(image: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 95)
        .write_image(
            image.as_raw(),
            image.width(),
            image.height(),
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
    out
}

fn png_rgba(image: &RgbaImage) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(
            image.as_raw(),
            image.width(),
            image.height(),
            image::ExtendedColorType::Rgba8,
        )
        .unwrap();
    out
}

fn png(image: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(
            image.as_raw(),
            image.width(),
            image.height(),
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
    out
}

fn webp_lossless(image: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::webp::WebPEncoder::new_lossless(&mut out)
        .write_image(
            image.as_raw(),
            image.width(),
            image.height(),
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
    out
}

/// A little-endian TIFF block with Orientation and an ImageDescription holding [`SECRET`].
fn exif_tiff(orientation: u16) -> Vec<u8> {
    let mut tiff = b"II*\0".to_vec();
    tiff.extend_from_slice(&8u32.to_le_bytes()); // first IFD
    tiff.extend_from_slice(&2u16.to_le_bytes()); // two entries
    // ImageDescription (0x010E), ASCII, its text after the IFD.
    let text_offset = 8 + 2 + 2 * 12 + 4;
    tiff.extend_from_slice(&0x010Eu16.to_le_bytes());
    tiff.extend_from_slice(&2u16.to_le_bytes());
    tiff.extend_from_slice(&(SECRET.len() as u32 + 1).to_le_bytes());
    tiff.extend_from_slice(&(text_offset as u32).to_le_bytes());
    // Orientation (0x0112), SHORT, inline.
    tiff.extend_from_slice(&0x0112u16.to_le_bytes());
    tiff.extend_from_slice(&3u16.to_le_bytes());
    tiff.extend_from_slice(&1u32.to_le_bytes());
    tiff.extend_from_slice(&orientation.to_le_bytes());
    tiff.extend_from_slice(&[0, 0]);
    tiff.extend_from_slice(&0u32.to_le_bytes()); // no next IFD
    tiff.extend_from_slice(SECRET);
    tiff.push(0);
    tiff
}

/// `jpeg` with an APP1 EXIF segment right after SOI.
fn with_exif(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let mut payload = b"Exif\0\0".to_vec();
    payload.extend_from_slice(&exif_tiff(orientation));
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&(payload.len() as u16 + 2).to_be_bytes());
    out.extend_from_slice(&payload);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// `png` with chunks inserted right after IHDR.
fn with_png_chunks(png: &[u8], chunks: &[Vec<u8>]) -> Vec<u8> {
    let ihdr_end = 8 + 8 + 13 + 4;
    let mut out = png[..ihdr_end].to_vec();
    for chunk in chunks {
        out.extend_from_slice(chunk);
    }
    out.extend_from_slice(&png[ihdr_end..]);
    out
}

/// A PNG whose header announces `width × height` pixels but carries almost no data.
fn png_bomb(width: u32, height: u32) -> Vec<u8> {
    let small = png(&RgbImage::new(1, 1));
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB
    let mut out = small[..8].to_vec();
    out.extend_from_slice(&png_chunk(b"IHDR", &ihdr));
    out.extend_from_slice(&small[8 + 25..]);
    out
}

/// A JPEG whose frame header announces `width × height`.
fn jpeg_bomb(width: u16, height: u16) -> Vec<u8> {
    let mut bytes = jpeg(&RgbImage::new(8, 8));
    let sof = bytes
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("baseline frame header");
    bytes[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    bytes[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
    bytes
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn decode(bytes: &[u8]) -> image::DynamicImage {
    image::load_from_memory(bytes).expect("output decodes")
}

fn close(actual: Rgb<u8>, expected: [u8; 3], tolerance: u8) -> bool {
    actual
        .0
        .iter()
        .zip(expected)
        .all(|(a, e)| a.abs_diff(e) <= tolerance)
}

fn assert_invalid<T: std::fmt::Debug>(result: Result<T, PortabilityError>, what: &str) -> String {
    match result {
        Err(PortabilityError::InvalidInput(message)) => message,
        other => panic!("{what}: expected InvalidInput, got {other:?}"),
    }
}

fn sanitize() -> TransformRequest {
    TransformRequest::new(4096, 4096, Fit::Contain, ImageFormat::Jpeg, 90)
}

fn tile() -> TransformRequest {
    TransformRequest::new(500, 500, Fit::Cover, ImageFormat::WebP, 85)
}

/// The luminance quantisation table (zig-zag order) of a baseline JPEG.
fn luma_quant_table(jpeg: &[u8]) -> Vec<u8> {
    let dqt = jpeg
        .windows(2)
        .position(|w| w == [0xFF, 0xDB])
        .expect("a quantisation table");
    // FF DB, length (2), Pq/Tq (1), 64 entries.
    assert_eq!(jpeg[dqt + 4] & 0xF0, 0, "8-bit table");
    jpeg[dqt + 5..dqt + 5 + 64].to_vec()
}

// ---------------------------------------------------------------------------------------------
// The contract

async fn jpeg_png_and_webp_are_decoded(t: Transformer) {
    let picture = halves(64, 32, RED, BLUE);
    for (input, format) in [
        (jpeg(&picture), ImageFormat::Jpeg),
        (png(&picture), ImageFormat::Png),
        (webp_lossless(&picture), ImageFormat::WebP),
    ] {
        let info = t.info(&input).await.unwrap();
        assert_eq!((info.format, info.width, info.height), (format, 64, 32));
        let out = t
            .transform(
                input,
                &TransformRequest::new(64, 64, Fit::Contain, ImageFormat::Png, 100),
            )
            .await
            .unwrap();
        assert_eq!(
            (out.width, out.height, out.format),
            (64, 32, ImageFormat::Png)
        );
        let decoded = decode(&out.bytes).to_rgb8();
        assert!(close(*decoded.get_pixel(8, 16), RED, 12), "{format:?}");
        assert!(close(*decoded.get_pixel(56, 16), BLUE, 12), "{format:?}");
    }
}

async fn other_formats_and_garbage_are_invalid_input(t: Transformer) {
    let mut gif = b"GIF89a".to_vec();
    gif.extend_from_slice(&[1, 0, 1, 0, 0, 0, 0, 0x3B]);
    let mut bmp = b"BM".to_vec();
    bmp.extend_from_slice(&[0; 60]);
    let tiff = exif_tiff(1);
    let truncated_jpeg = jpeg(&halves(64, 64, RED, BLUE))[..200].to_vec();
    let cases: [(&str, Vec<u8>); 6] = [
        ("gif", gif),
        ("bmp", bmp),
        ("tiff", tiff),
        ("text", b"hello, not an image".to_vec()),
        ("empty", Vec::new()),
        ("truncated jpeg", truncated_jpeg),
    ];
    for (what, input) in cases {
        assert_invalid(t.transform(input.clone(), &sanitize()).await, what);
        if what != "truncated jpeg" {
            assert_invalid(t.info(&input).await, what);
        }
    }
}

async fn decompression_bombs_are_refused_from_the_header(t: Transformer) {
    // 60000² = 3.6 gigapixels: 10.8 GB of RGB if it were decoded.
    for (what, bomb) in [
        ("png", png_bomb(60_000, 60_000)),
        ("jpeg", jpeg_bomb(65_000, 65_000)),
    ] {
        let started = std::time::Instant::now();
        let message = assert_invalid(t.transform(bomb.clone(), &sanitize()).await, what);
        assert!(message.contains("limit"), "{what}: {message}");
        assert_invalid(t.info(&bomb).await, what);
        // Refused from the header: no time spent on pixels.
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{what}"
        );
    }
}

async fn orientation_is_applied_then_metadata_stripped(t: Transformer) {
    // Stored 40×20 left red / right blue; orientation 6 displays it turned 90° clockwise:
    // 20×40, red on top, blue below.
    let input = with_exif(&jpeg(&halves(40, 20, RED, BLUE)), 6);
    assert!(contains(&input, SECRET));
    let info = t.info(&input).await.unwrap();
    assert_eq!((info.width, info.height), (20, 40));
    for format in [ImageFormat::Jpeg, ImageFormat::Png, ImageFormat::WebP] {
        let request = TransformRequest::new(4096, 4096, Fit::Contain, format, 90);
        let out = t.transform(input.clone(), &request).await.unwrap();
        assert_eq!((out.width, out.height), (20, 40), "{format:?}");
        assert!(
            !contains(&out.bytes, SECRET),
            "{format:?} kept the EXIF text"
        );
        assert!(
            !contains(&out.bytes, b"Exif"),
            "{format:?} kept an EXIF block"
        );
        assert!(
            !contains(&out.bytes, b"EXIF"),
            "{format:?} kept an EXIF chunk"
        );
        assert!(
            !contains(&out.bytes, b"eXIf"),
            "{format:?} kept an eXIf chunk"
        );
        let decoded = decode(&out.bytes).to_rgb8();
        assert!(close(*decoded.get_pixel(10, 5), RED, 40), "{format:?}");
        assert!(close(*decoded.get_pixel(10, 34), BLUE, 40), "{format:?}");
    }
    // Orientation 3 (upside down) keeps the size and swaps the halves.
    let flipped = with_exif(&jpeg(&halves(40, 20, RED, BLUE)), 3);
    let out = t.transform(flipped, &sanitize()).await.unwrap();
    let decoded = decode(&out.bytes).to_rgb8();
    assert_eq!(decoded.dimensions(), (40, 20));
    assert!(close(*decoded.get_pixel(5, 10), BLUE, 40));
    assert!(close(*decoded.get_pixel(34, 10), RED, 40));
}

async fn png_text_and_colour_profile_chunks_are_dropped(t: Transformer) {
    let mut text = b"Comment\0".to_vec();
    text.extend_from_slice(SECRET);
    let mut exif = exif_tiff(1);
    exif.truncate(exif.len());
    let input = with_png_chunks(
        &png(&halves(16, 16, GREEN, YELLOW)),
        &[
            png_chunk(b"tEXt", &text),
            png_chunk(b"eXIf", &exif),
            png_chunk(b"sRGB", &[0]),
        ],
    );
    assert!(contains(&input, SECRET));
    for format in [ImageFormat::Png, ImageFormat::WebP, ImageFormat::Jpeg] {
        let request = TransformRequest::new(16, 16, Fit::Cover, format, 90);
        let out = t.transform(input.clone(), &request).await.unwrap();
        for marker in [SECRET, b"tEXt", b"eXIf", b"iCCP", b"ICCP", b"sRGB", b"XMP"] {
            assert!(!contains(&out.bytes, marker), "{format:?} kept {marker:?}");
        }
    }
}

async fn sanitize_fits_4096_as_jpeg_quality_90(t: Transformer) {
    // Wider than the box: scaled down to 4096 wide, aspect ratio kept.
    let wide = jpeg(&halves(5000, 1000, RED, BLUE));
    let out = t.transform(wide, &sanitize()).await.unwrap();
    assert_eq!(
        (out.width, out.height, out.format),
        (4096, 819, ImageFormat::Jpeg)
    );
    assert_eq!(&out.bytes[..3], &[0xFF, 0xD8, 0xFF]);
    let decoded = decode(&out.bytes);
    assert_eq!(decoded.dimensions(), (4096, 819));
    assert!(close(
        decoded.to_rgb8().get_pixel(100, 400).to_owned(),
        RED,
        12
    ));
    // Smaller than the box: never upscaled.
    let small = png(&halves(300, 200, RED, BLUE));
    let out = t.transform(small, &sanitize()).await.unwrap();
    assert_eq!((out.width, out.height), (300, 200));
    // Quality 90 is libjpeg's scaling of the standard tables: the luminance DC step of the
    // standard table (16) becomes (16 · 20 + 50) / 100 = 3; at quality 50 it stays 16.
    let q90 = luma_quant_table(&out.bytes);
    assert_eq!(q90[0], 3, "{q90:?}");
    let q50 = t
        .transform(
            png(&halves(300, 200, RED, BLUE)),
            &TransformRequest::new(4096, 4096, Fit::Contain, ImageFormat::Jpeg, 50),
        )
        .await
        .unwrap();
    assert_eq!(luma_quant_table(&q50.bytes)[0], 16);
}

async fn grid_quadrants_trim_then_cover_to_500_webp(t: Transformer) {
    // The pipeline's split of a 2048² grid: each quadrant minus an 8-pixel seam inset.
    let grid = png(&quadrants(2048));
    let half = 1024;
    let inset = 8;
    let trims = [
        Trim {
            top: 0,
            right: half + inset,
            bottom: half + inset,
            left: 0,
        },
        Trim {
            top: 0,
            right: 0,
            bottom: half + inset,
            left: half + inset,
        },
        Trim {
            top: half + inset,
            right: half + inset,
            bottom: 0,
            left: 0,
        },
        Trim {
            top: half + inset,
            right: 0,
            bottom: 0,
            left: half + inset,
        },
    ];
    let requests: Vec<_> = trims.iter().map(|trim| tile().with_trim(*trim)).collect();
    let tiles = t.renditions(grid, &requests).await.unwrap();
    assert_eq!(tiles.len(), 4);
    for (tile, colour) in tiles.iter().zip([RED, GREEN, BLUE, YELLOW]) {
        assert_eq!(
            (tile.width, tile.height, tile.format),
            (500, 500, ImageFormat::WebP)
        );
        assert_eq!(&tile.bytes[..4], b"RIFF");
        assert_eq!(&tile.bytes[8..12], b"WEBP");
        let decoded = decode(&tile.bytes).to_rgb8();
        assert_eq!(decoded.dimensions(), (500, 500));
        // The seam inset keeps the neighbouring quadrants out, up to the very edges.
        for (x, y) in [(0, 0), (499, 0), (0, 499), (499, 499), (250, 250)] {
            assert!(
                close(*decoded.get_pixel(x, y), colour, 24),
                "{colour:?} at ({x},{y}): {:?}",
                decoded.get_pixel(x, y)
            );
        }
    }
}

async fn cover_crops_the_centre_and_fills_the_box(t: Transformer) {
    // 300×100: green | red | blue thirds; the centred square is all red.
    let thirds = RgbImage::from_fn(300, 100, |x, _| {
        Rgb(match x {
            0..100 => GREEN,
            100..200 => RED,
            _ => BLUE,
        })
    });
    let request = TransformRequest::new(50, 50, Fit::Cover, ImageFormat::Png, 100);
    let out = t.transform(png(&thirds), &request).await.unwrap();
    let decoded = decode(&out.bytes).to_rgb8();
    assert_eq!(decoded.dimensions(), (50, 50));
    for (x, y) in [(1, 1), (48, 48), (25, 25)] {
        assert!(close(*decoded.get_pixel(x, y), RED, 16), "({x},{y})");
    }
    // A small image is enlarged to fill the box.
    let out = t
        .transform(png(&halves(40, 40, RED, BLUE)), &tile())
        .await
        .unwrap();
    assert_eq!((out.width, out.height), (500, 500));
    let decoded = decode(&out.bytes).to_rgb8();
    assert!(close(*decoded.get_pixel(100, 250), RED, 24));
    assert!(close(*decoded.get_pixel(400, 250), BLUE, 24));
}

async fn overlays_are_composited_over_the_fitted_image(t: Transformer) {
    let base = png(&RgbImage::from_pixel(8, 8, Rgb([100, 100, 100])));
    // A 4×4 white layer at half alpha, drawn at (-2, -2): only its lower-right 2×2 lands.
    let white = Arc::new(RgbaLayer::new(4, 4, [255, 255, 255, 128].repeat(16)).unwrap());
    // A 2×2 black layer, fully opaque but drawn at opacity 0.5, at (6, 6).
    let black = Arc::new(RgbaLayer::new(2, 2, [0, 0, 0, 255].repeat(4)).unwrap());
    let request = TransformRequest::new(8, 8, Fit::Cover, ImageFormat::Png, 100)
        .with_overlay(Overlay {
            layer: white,
            left: -2,
            top: -2,
            opacity: 1.0,
        })
        .with_overlay(Overlay {
            layer: black,
            left: 6,
            top: 6,
            opacity: 0.5,
        });
    let out = t.transform(base, &request).await.unwrap();
    let decoded = decode(&out.bytes).to_rgb8();
    let grey = |p: &Rgb<u8>| p.0[0];
    // 100 + (255 − 100) · 128/255 ≈ 178 under the white layer.
    assert!(grey(decoded.get_pixel(0, 0)).abs_diff(178) <= 1);
    assert!(grey(decoded.get_pixel(1, 1)).abs_diff(178) <= 1);
    assert_eq!(grey(decoded.get_pixel(2, 2)), 100);
    // 100 · (1 − 0.5) = 50 under the black layer.
    assert!(grey(decoded.get_pixel(7, 7)).abs_diff(50) <= 1);
    assert_eq!(grey(decoded.get_pixel(5, 5)), 100);
    // The overlay is drawn after the fit, in output coordinates.
    let big = png(&RgbImage::from_pixel(1000, 1000, Rgb([100, 100, 100])));
    let corner = Arc::new(RgbaLayer::new(10, 10, [255, 255, 255, 255].repeat(100)).unwrap());
    let request = tile().with_overlay(Overlay {
        layer: corner,
        left: 490,
        top: 490,
        opacity: 1.0,
    });
    let out = t.transform(big, &request).await.unwrap();
    let decoded = decode(&out.bytes).to_rgb8();
    assert!(close(*decoded.get_pixel(495, 495), [255, 255, 255], 12));
    assert!(close(*decoded.get_pixel(480, 480), [100, 100, 100], 12));
}

async fn transparency_is_flattened_for_jpeg_and_kept_otherwise(t: Transformer) {
    let input = png_rgba(&RgbaImage::from_fn(16, 16, |x, _| {
        if x < 8 {
            Rgba([0, 0, 0, 0])
        } else {
            Rgba([30, 60, 220, 255])
        }
    }));
    let jpeg_out = t.transform(input.clone(), &sanitize()).await.unwrap();
    let decoded = decode(&jpeg_out.bytes).to_rgb8();
    assert!(close(*decoded.get_pixel(2, 8), [255, 255, 255], 8));
    for format in [ImageFormat::Png, ImageFormat::WebP] {
        let request = TransformRequest::new(16, 16, Fit::Cover, format, 100);
        let out = t.transform(input.clone(), &request).await.unwrap();
        let decoded = decode(&out.bytes).to_rgba8();
        assert_eq!(decoded.get_pixel(2, 8).0[3], 0, "{format:?}");
        assert_eq!(decoded.get_pixel(12, 8).0[3], 255, "{format:?}");
    }
}

async fn invalid_requests_are_refused(t: Transformer) {
    let input = png(&halves(16, 16, RED, BLUE));
    let white = Arc::new(RgbaLayer::new(1, 1, vec![255; 4]).unwrap());
    let cases = [
        (
            "empty box",
            TransformRequest::new(0, 10, Fit::Contain, ImageFormat::Png, 90),
        ),
        (
            "quality 0",
            TransformRequest::new(10, 10, Fit::Contain, ImageFormat::Jpeg, 0),
        ),
        (
            "quality 101",
            TransformRequest::new(10, 10, Fit::Contain, ImageFormat::WebP, 101),
        ),
        (
            "trim leaves nothing",
            tile().with_trim(Trim {
                top: 8,
                bottom: 8,
                ..Trim::default()
            }),
        ),
        (
            "opacity above 1",
            tile().with_overlay(Overlay {
                layer: white,
                left: 0,
                top: 0,
                opacity: 1.5,
            }),
        ),
    ];
    for (what, request) in cases {
        assert_invalid(t.transform(input.clone(), &request).await, what);
    }
    assert!(RgbaLayer::new(2, 2, vec![0; 15]).is_err());
    assert!(RgbaLayer::new(0, 0, Vec::new()).is_err());
}

async fn webp_is_lossy_below_100_and_lossless_at_100(t: Transformer) {
    let input = png(&quadrants(256));
    let lossy = t.transform(input.clone(), &tile()).await.unwrap();
    assert_eq!(&lossy.bytes[12..16], b"VP8 ");
    let lossless = t
        .transform(
            input,
            &TransformRequest::new(500, 500, Fit::Cover, ImageFormat::WebP, 100),
        )
        .await
        .unwrap();
    assert_eq!(&lossless.bytes[12..16], b"VP8L");
}

async fn output_is_deterministic_and_renditions_equal_single_transforms(t: Transformer) {
    let input = jpeg(&quadrants(640));
    let requests = [
        sanitize(),
        tile(),
        TransformRequest::new(64, 32, Fit::Contain, ImageFormat::Png, 100),
    ];
    let together = t.renditions(input.clone(), &requests).await.unwrap();
    for (request, rendition) in requests.iter().zip(&together) {
        let alone = t.transform(input.clone(), request).await.unwrap();
        assert_eq!(&alone, rendition);
    }
    assert_eq!((together[2].width, together[2].height), (32, 32));
}

/// Generates one test per contract function for an adapter.
macro_rules! image_transformer_contract {
    ($adapter:ident, $make:expr) => {
        mod $adapter {
            image_transformer_contract!(@tests $make;
                jpeg_png_and_webp_are_decoded,
                other_formats_and_garbage_are_invalid_input,
                decompression_bombs_are_refused_from_the_header,
                orientation_is_applied_then_metadata_stripped,
                png_text_and_colour_profile_chunks_are_dropped,
                sanitize_fits_4096_as_jpeg_quality_90,
                grid_quadrants_trim_then_cover_to_500_webp,
                cover_crops_the_centre_and_fills_the_box,
                overlays_are_composited_over_the_fitted_image,
                transparency_is_flattened_for_jpeg_and_kept_otherwise,
                invalid_requests_are_refused,
                webp_is_lossy_below_100_and_lossless_at_100,
                output_is_deterministic_and_renditions_equal_single_transforms,
            );
        }
    };
    (@tests $make:expr; $($test:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $test() {
                let transformer: super::Transformer = std::sync::Arc::new($make);
                super::$test(transformer).await;
            }
        )*
    };
}

image_transformer_contract!(raster, portability::RasterImageTransformer::default());

// ---------------------------------------------------------------------------------------------
// RasterImageTransformer specifics

#[tokio::test]
async fn raster_pixel_limit_is_configurable() {
    let strict = RasterImageTransformer::new(100 * 100, 1);
    let at_limit = png(&halves(100, 100, RED, BLUE));
    strict.transform(at_limit, &sanitize()).await.unwrap();
    let above = png(&halves(101, 100, RED, BLUE));
    let message = assert_invalid(
        strict.transform(above.clone(), &sanitize()).await,
        "101x100",
    );
    assert!(message.contains("10100 pixels"), "{message}");
    assert_invalid(strict.info(&above).await, "info 101x100");
}

#[tokio::test]
async fn raster_concurrency_is_bounded_but_every_request_finishes() {
    let transformer = Arc::new(RasterImageTransformer::new(
        portability::DEFAULT_MAX_PIXELS,
        1,
    ));
    let input = jpeg(&quadrants(512));
    let jobs: Vec<_> = (0..6)
        .map(|_| {
            let transformer = Arc::clone(&transformer);
            let input = input.clone();
            tokio::spawn(async move { transformer.transform(input, &tile()).await })
        })
        .collect();
    for job in jobs {
        assert_eq!(job.await.unwrap().unwrap().width, 500);
    }
}
