//! Benchmark (not a test): the photo pipeline's image work, photos per second on this machine,
//! against libvips on the same inputs when `vips` / `vipsthumbnail` are installed (Debian
//! `libvips-tools`), and against the `image` crate alone (its Lanczos3 resize, its JPEG encoder,
//! its lossless-only WebP encoder) — the figures behind ADR 0031.
//!
//! - sanitize: a 12 MP JPEG (4000×3000, and 6000×4000 to include a downscale) → orient → fit
//!   4096 → JPEG q90.
//! - tile + reveal: four 500×500 WebP q85 tiles from a 2048² grid (one decode), and one reveal
//!   (sanitized photo → cover 500×500 → watermark overlay → WebP q85).
//! - peak RSS (VmHWM) with 4 pipelines' sanitize steps (4 photos each) at once.
//!
//! `cargo bench -p media --bench photos` (`PHOTOS_BENCH_ROUNDS`, default 6).

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use image::{ImageEncoder, RgbImage};
use media::photos::watermark::{Typeface, full_overlay};
use portability::{
    Fit, ImageFormat, ImageTransformer, Overlay, RasterImageTransformer, TransformRequest, Trim,
};

fn rounds() -> usize {
    std::env::var("PHOTOS_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6)
}

fn peak_rss_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_owned))
        })
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0)
        / 1024
}

fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// A photo-like picture: smooth light, texture, hard edges and sensor noise, so the codecs
/// meet what a camera gives them (a flat picture would flatter every encoder).
fn photo(width: u32, height: u32, seed: u32) -> RgbImage {
    let mut state = seed.wrapping_mul(2_654_435_761).max(1);
    let mut noise = move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        (state % 17) as i32 - 8
    };
    RgbImage::from_fn(width, height, |x, y| {
        let (fx, fy) = (x as f32 / width as f32, y as f32 / height as f32);
        let light = 60.0 + 140.0 * (1.0 - (fx - 0.4).powi(2) - (fy - 0.3).powi(2)).max(0.0);
        let texture = 25.0 * ((x as f32 * 0.05).sin() * (y as f32 * 0.031).cos());
        let edge = if (x / 400 + y / 300) % 3 == 0 {
            40.0
        } else {
            0.0
        };
        let base = light + texture + edge;
        let mut px = |k: f32| (base * k + noise() as f32).clamp(0.0, 255.0) as u8;
        image::Rgb([px(1.0), px(0.85), px(0.7)])
    })
}

fn jpeg(picture: &RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
        .write_image(
            picture.as_raw(),
            picture.width(),
            picture.height(),
            image::ExtendedColorType::Rgb8,
        )
        .expect("encode");
    out
}

fn png(picture: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(
            picture.as_raw(),
            picture.width(),
            picture.height(),
            image::ExtendedColorType::Rgb8,
        )
        .expect("encode");
    out
}

fn rate(count: usize, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64()
}

fn sanitize_request() -> TransformRequest {
    TransformRequest::new(4096, 4096, Fit::Contain, ImageFormat::Jpeg, 90)
}

fn tile_requests(size: u32) -> Vec<TransformRequest> {
    let (half, inset) = (size / 2, 8);
    [
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
    ]
    .into_iter()
    .map(|trim| TransformRequest::new(500, 500, Fit::Cover, ImageFormat::WebP, 85).with_trim(trim))
    .collect()
}

/// The same sanitize with the `image` crate alone.
fn image_crate_sanitize(input: &[u8]) -> Vec<u8> {
    let decoded = image::load_from_memory(input).expect("decode").into_rgb8();
    let (w, h) = decoded.dimensions();
    let fitted = if w > 4096 || h > 4096 {
        let scale = (4096.0 / w as f64).min(4096.0 / h as f64);
        let (nw, nh) = (
            (w as f64 * scale).round() as u32,
            (h as f64 * scale).round() as u32,
        );
        image::imageops::resize(&decoded, nw, nh, image::imageops::FilterType::Lanczos3)
    } else {
        decoded
    };
    jpeg(&fitted, 90)
}

/// A 500×500 tile with the `image` crate alone (lossless WebP: its only WebP encoder).
fn image_crate_tile(grid: &image::DynamicImage, x: u32, y: u32, side: u32) -> Vec<u8> {
    let quadrant = grid.crop_imm(x, y, side, side).into_rgb8();
    let tile = image::imageops::resize(&quadrant, 500, 500, image::imageops::FilterType::Lanczos3);
    let mut out = Vec::new();
    image::codecs::webp::WebPEncoder::new_lossless(&mut out)
        .write_image(tile.as_raw(), 500, 500, image::ExtendedColorType::Rgb8)
        .expect("webp");
    out
}

fn vips_available() -> bool {
    Command::new("vips")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
        && Command::new("vipsthumbnail").arg("--help").output().is_ok()
}

fn run(command: &mut Command) {
    let output = command.output().expect("spawn");
    assert!(
        output.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn time_vips(rounds: usize, mut once: impl FnMut()) -> Duration {
    once(); // warm the page cache and the shared libraries
    let started = Instant::now();
    for _ in 0..rounds {
        once();
    }
    started.elapsed()
}

fn main() {
    let rounds = rounds();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let transformer = Arc::new(RasterImageTransformer::default());
    let dir = tempfile::tempdir().unwrap();
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    println!(
        "photo pipeline benchmark: {rounds} rounds, {cores} cores, one photo at a time unless said"
    );

    let photo_12mp = jpeg(&photo(4000, 3000, 1), 92);
    let photo_24mp = jpeg(&photo(6000, 4000, 2), 92);
    let grid = png(&photo(2048, 2048, 3));
    let path_12 = dir.path().join("photo12.jpg");
    let path_24 = dir.path().join("photo24.jpg");
    let path_grid = dir.path().join("grid.png");
    std::fs::write(&path_12, &photo_12mp).unwrap();
    std::fs::write(&path_24, &photo_24mp).unwrap();
    std::fs::write(&path_grid, &grid).unwrap();
    println!(
        "inputs: 12 MP JPEG {} KiB, 24 MP JPEG {} KiB, 2048² grid PNG {} KiB",
        photo_12mp.len() / 1024,
        photo_24mp.len() / 1024,
        grid.len() / 1024
    );

    // --- sanitize -------------------------------------------------------------------------
    let mut ours = Vec::new();
    for (name, input) in [("12 MP", &photo_12mp), ("24 MP", &photo_24mp)] {
        let started = Instant::now();
        let mut size = 0;
        for _ in 0..rounds {
            let out = runtime
                .block_on(transformer.transform(input.clone(), &sanitize_request()))
                .unwrap();
            size = out.bytes.len();
        }
        let ours_rate = rate(rounds, started.elapsed());
        ours.push(ours_rate);
        let started = Instant::now();
        for _ in 0..rounds {
            image_crate_sanitize(input);
        }
        let image_rate = rate(rounds, started.elapsed());
        println!(
            "sanitize {name}: {ours_rate:.2} photos/s (output {} KiB); image crate alone {image_rate:.2} photos/s",
            size / 1024
        );
    }

    // --- tile + reveal ------------------------------------------------------------------------
    let face = Typeface::roboto_mono_bold().unwrap();
    let wallet = "0x8ba1f109551bd432803012645ac136ddd64dba72";
    let started = Instant::now();
    for _ in 0..rounds {
        full_overlay(&face, wallet).unwrap().to_layer().unwrap();
    }
    println!(
        "overlay render: {:.1} overlays/s",
        rate(rounds, started.elapsed())
    );
    let overlay = full_overlay(&face, wallet).unwrap().to_layer().unwrap();
    let sanitized = runtime
        .block_on(transformer.transform(photo_12mp.clone(), &sanitize_request()))
        .unwrap()
        .bytes;
    let path_orig = dir.path().join("orig.jpg");
    std::fs::write(&path_orig, &sanitized).unwrap();
    let path_overlay = dir.path().join("overlay.png");
    std::fs::write(
        &path_overlay,
        full_overlay(&face, wallet).unwrap().to_png().unwrap(),
    )
    .unwrap();
    let reveal =
        TransformRequest::new(500, 500, Fit::Cover, ImageFormat::WebP, 85).with_overlay(Overlay {
            layer: overlay,
            left: 0,
            top: 0,
            opacity: 1.0,
        });

    let started = Instant::now();
    let mut tile_bytes = 0;
    for _ in 0..rounds {
        let tiles = runtime
            .block_on(transformer.renditions(grid.clone(), &tile_requests(2048)))
            .unwrap();
        tile_bytes = tiles[0].bytes.len();
    }
    let tiles_rate = rate(rounds * 4, started.elapsed());
    let started = Instant::now();
    let mut reveal_bytes = 0;
    for _ in 0..rounds {
        reveal_bytes = runtime
            .block_on(transformer.transform(sanitized.clone(), &reveal))
            .unwrap()
            .bytes
            .len();
    }
    let reveal_rate = rate(rounds, started.elapsed());
    // One photo's share: one tile (a quarter of the grid's work) and one reveal.
    let tile_reveal_rate = 1.0 / (1.0 / tiles_rate + 1.0 / reveal_rate);
    println!(
        "tiles: {tiles_rate:.2} tiles/s (libwebp lossy q85, {} KiB each); reveal: {reveal_rate:.2}/s ({} KiB); tile + reveal: {tile_reveal_rate:.2} photos/s",
        tile_bytes / 1024,
        reveal_bytes / 1024
    );
    let decoded_grid = image::load_from_memory(&grid).unwrap();
    let started = Instant::now();
    let mut lossless_bytes = 0;
    for _ in 0..rounds {
        lossless_bytes = image_crate_tile(&decoded_grid, 0, 0, 1016).len();
    }
    println!(
        "image crate alone, one tile (resize + lossless WebP, grid decoded once outside the clock): {:.2} tiles/s, {} KiB",
        rate(rounds, started.elapsed()),
        lossless_bytes / 1024
    );

    // --- peak RSS with 4 concurrent pipelines ---------------------------------------------------
    reset_peak_rss();
    let before = peak_rss_mib();
    let started = Instant::now();
    runtime.block_on(async {
        let pipelines: Vec<_> = (0..4)
            .map(|_| {
                let transformer = Arc::clone(&transformer);
                let input = photo_12mp.clone();
                tokio::spawn(async move {
                    for _ in 0..4 {
                        transformer
                            .transform(input.clone(), &sanitize_request())
                            .await
                            .unwrap();
                    }
                })
            })
            .collect();
        for pipeline in pipelines {
            pipeline.await.unwrap();
        }
    });
    println!(
        "4 concurrent pipelines × 4 photos (12 MP): {:.2} photos/s, peak RSS {} MiB (was {before} MiB; at most {cores} images decoded at once)",
        rate(16, started.elapsed()),
        peak_rss_mib()
    );

    // --- libvips -----------------------------------------------------------------------------
    if !vips_available() {
        println!(
            "libvips: vips / vipsthumbnail not installed (apt-get install libvips-tools); no comparison"
        );
        return;
    }
    let out = |name: &str| dir.path().join(name).display().to_string();
    let p = |path: &Path| path.display().to_string();
    for (name, path, rate_ours) in [("12 MP", &path_12, ours[0]), ("24 MP", &path_24, ours[1])] {
        let elapsed = time_vips(rounds, || {
            run(Command::new("vipsthumbnail")
                .arg(p(path))
                .args(["--size", "4096x4096>", "-o"])
                .arg(format!("{}[Q=90,strip]", out("vips-sanitized.jpg"))));
        });
        let vips_rate = rate(rounds, elapsed);
        println!(
            "vipsthumbnail sanitize {name}: {vips_rate:.2} photos/s (a process per photo); ours / vips = {:.2}",
            rate_ours / vips_rate
        );
    }
    let quadrant = out("quadrant.v");
    let elapsed = time_vips(rounds, || {
        run(Command::new("vips").args([
            "extract_area",
            &p(&path_grid),
            &quadrant,
            "0",
            "0",
            "1016",
            "1016",
        ]));
        run(Command::new("vipsthumbnail")
            .arg(&quadrant)
            .args(["--size", "500x500", "--smartcrop", "centre", "-o"])
            .arg(format!("{}[Q=85,strip]", out("vips-tile.webp"))));
    });
    let vips_tiles = rate(rounds, elapsed);
    let resized = out("resized.v");
    let elapsed = time_vips(rounds, || {
        run(Command::new("vipsthumbnail")
            .arg(p(&path_orig))
            .args(["--size", "500x500", "--smartcrop", "centre", "-o"])
            .arg(&resized));
        run(Command::new("vips").args([
            "composite2",
            &resized,
            &p(&path_overlay),
            &format!("{}[Q=85,strip]", out("vips-reveal.webp")),
            "over",
        ]));
    });
    let vips_reveal = rate(rounds, elapsed);
    let vips_tile_reveal = 1.0 / (1.0 / vips_tiles + 1.0 / vips_reveal);
    println!(
        "vips tiles: {vips_tiles:.2}/s (grid decoded per tile); reveal: {vips_reveal:.2}/s; tile + reveal: {vips_tile_reveal:.2} photos/s; ours / vips = {:.2}",
        tile_reveal_rate / vips_tile_reveal
    );
}
