//! The watermarks against goldens rendered by the original's own libraries (opentype.js +
//! svg2png-wasm, `tests/golden/README.md`), within a tolerance: the layout, sizes, opacities
//! and font of contracts/api-core.md §5.3 are held, and any rendering change beyond
//! anti-aliasing noise fails.

use media::photos::watermark::{
    OVERLAY_SIZE, STAMP_HEIGHT, STAMP_WIDTH, Typeface, Watermark, corner_stamp, full_overlay,
    overlay_layout,
};
use tiny_skia::Pixmap;

const WALLET: &str = "0x8ba1f109551bd432803012645ac136ddd64dba72";
const CODE: &str = "4929099223";
const DATE: &str = "2026-12-04";

/// How far a render may be from its golden.
struct Tolerance {
    /// A pixel differs when one of its straight-alpha channels is off by more than this.
    channel: u8,
    /// At most this share of pixels may differ.
    share: f64,
    /// The mean absolute difference over all channels of all pixels.
    mean: f64,
}

/// Measured when written: the overlay equal to the pixel, the stamp 2 pixels apart (its
/// rounded corners: cubic quarter circles here, elliptical arcs in resvg).
const TOLERANCE: Tolerance = Tolerance {
    channel: 16,
    share: 0.001,
    mean: 0.1,
};

struct Difference {
    differing: usize,
    pixels: usize,
    mean: f64,
}

fn straight(pixmap: &Pixmap) -> Vec<[u8; 4]> {
    pixmap
        .pixels()
        .iter()
        .map(|p| {
            let c = p.demultiply();
            // Colour is meaningless where nothing is drawn.
            if c.alpha() == 0 {
                [0, 0, 0, 0]
            } else {
                [c.red(), c.green(), c.blue(), c.alpha()]
            }
        })
        .collect()
}

fn compare(render: &Watermark, golden: &str) -> Difference {
    let path = format!("{}/tests/golden/{golden}", env!("CARGO_MANIFEST_DIR"));
    let golden = Pixmap::load_png(&path).unwrap_or_else(|err| panic!("{path}: {err}"));
    let ours = Pixmap::decode_png(&render.to_png().unwrap()).unwrap();
    assert_eq!(
        (ours.width(), ours.height()),
        (golden.width(), golden.height())
    );
    let (a, b) = (straight(&ours), straight(&golden));
    let mut differing = 0;
    let mut total = 0u64;
    for (p, q) in a.iter().zip(&b) {
        let worst = p
            .iter()
            .zip(q)
            .map(|(x, y)| x.abs_diff(*y))
            .max()
            .unwrap_or(0);
        // Colour differences under near-zero alpha are invisible; weigh by coverage.
        let visible = (u32::from(worst) * u32::from(p[3].max(q[3])) / 255) as u8;
        if visible > TOLERANCE.channel {
            differing += 1;
        }
        total += p
            .iter()
            .zip(q)
            .map(|(x, y)| u64::from(x.abs_diff(*y)))
            .sum::<u64>();
    }
    Difference {
        differing,
        pixels: a.len(),
        mean: total as f64 / (a.len() * 4) as f64,
    }
}

fn assert_within(render: &Watermark, golden: &str) {
    let d = compare(render, golden);
    let share = d.differing as f64 / d.pixels as f64;
    eprintln!(
        "{golden}: {} of {} pixels differ ({:.3} %), mean channel difference {:.3}",
        d.differing,
        d.pixels,
        share * 100.0,
        d.mean
    );
    assert!(
        share <= TOLERANCE.share && d.mean <= TOLERANCE.mean,
        "{golden}: {} pixels differ ({:.3} %), mean {:.3}",
        d.differing,
        share * 100.0,
        d.mean
    );
}

#[test]
fn overlay_layout_matches_the_reference_measurements() {
    let face = Typeface::roboto_mono_bold().unwrap();
    let layout = overlay_layout(&face, WALLET).unwrap();
    // opentype.js measured both labels at 11 px: 381.47119140625 and 381.38525390625.
    assert_eq!(layout.font_size, 11);
    assert!(
        (layout.widths[0] - 381.471_191_406_25).abs() < 1e-6,
        "{layout:?}"
    );
    assert!(
        (layout.widths[1] - 381.385_253_906_25).abs() < 1e-6,
        "{layout:?}"
    );
    let tops: Vec<f64> = layout.rows.iter().map(|row| row.2).collect();
    // The original: startY + i · ((endY − startY) / (rows − 1)).
    let expected: Vec<f64> = (0..7)
        .map(|i| 35.0 + f64::from(i) * (430.0 / 6.0))
        .collect();
    assert_eq!(tops, expected);
    let labels: Vec<usize> = layout.rows.iter().map(|row| row.0).collect();
    assert_eq!(labels, vec![0, 1, 0, 1, 0, 1, 0]);
    assert_eq!(layout.labels[0], format!("Heaven Dating \u{2022} {WALLET}"));
    assert_eq!(layout.labels[1], format!("{WALLET} \u{2022} Heaven Dating"));
    assert!((layout.rows[1].1 - (500.0 - layout.widths[1]) / 2.0).abs() < 1e-12);
}

#[test]
fn long_labels_shrink_and_overlong_ones_are_refused() {
    let face = Typeface::roboto_mono_bold().unwrap();
    // 0.6 em per character: 17 + 60 characters fit at 10 px (462 px) but not at 11 (508 px).
    let longer = "x".repeat(60);
    assert_eq!(overlay_layout(&face, &longer).unwrap().font_size, 10);
    let overlong = "x".repeat(200);
    assert!(overlay_layout(&face, &overlong).is_err());
}

#[test]
fn overlay_matches_the_original_render() {
    let face = Typeface::roboto_mono_bold().unwrap();
    let overlay = full_overlay(&face, WALLET).unwrap();
    assert_eq!(
        (overlay.width(), overlay.height()),
        (OVERLAY_SIZE, OVERLAY_SIZE)
    );
    assert_within(&overlay, "overlay.png");
}

#[test]
fn overlay_is_translucent_white_over_a_faint_black_stroke() {
    let face = Typeface::roboto_mono_bold().unwrap();
    let layer = full_overlay(&face, WALLET).unwrap().to_layer().unwrap();
    let pixels: Vec<&[u8]> = layer.pixels().chunks(4).collect();
    let max_alpha = pixels.iter().map(|p| p[3]).max().unwrap();
    // Inside a glyph: fill 0.45 over stroke 0.2 → 0.45 + 0.2 · 0.55 = 0.56 (143).
    assert!((140..=146).contains(&max_alpha), "{max_alpha}");
    // Only the stroke's fringe: black at 0.2 (51) at most.
    let fringe_max = pixels
        .iter()
        .filter(|p| p[0] < 10)
        .map(|p| p[3])
        .max()
        .unwrap();
    assert!((45..=52).contains(&fringe_max), "{fringe_max}");
    // Nothing between the rows, nothing above the first one's stroke.
    let row_alpha = |y: usize| (0..500).map(|x| pixels[y * 500 + x][3]).max().unwrap();
    assert_eq!(row_alpha(20), 0);
    assert_eq!(row_alpha(70), 0);
    assert!(row_alpha(40) > 100);
}

#[test]
fn stamp_matches_the_original_render() {
    let face = Typeface::roboto_mono_bold().unwrap();
    let stamp = corner_stamp(&face, WALLET, CODE, DATE).unwrap();
    assert_eq!((stamp.width(), stamp.height()), (STAMP_WIDTH, STAMP_HEIGHT));
    assert_within(&stamp, "stamp.png");
    let layer = stamp.to_layer().unwrap();
    // The card: black at 0.75 (191) away from text, corners rounded off.
    let at = |x: usize, y: usize| &layer.pixels()[(y * 240 + x) * 4..][..4];
    assert_eq!(at(230, 74), &[0, 0, 0, 191]);
    assert_eq!(at(0, 0)[3], 0);
}

#[test]
fn goldens_tell_renders_apart() {
    // The tolerance is tight enough that another viewer's render fails it.
    let face = Typeface::roboto_mono_bold().unwrap();
    let other = "0x0000000000000000000000000000000000000001";
    let d = compare(&full_overlay(&face, other).unwrap(), "overlay.png");
    assert!(d.differing as f64 / d.pixels as f64 > TOLERANCE.share);
    let d = compare(
        &corner_stamp(&face, WALLET, "0000000000", DATE).unwrap(),
        "stamp.png",
    );
    assert!(d.differing as f64 / d.pixels as f64 > TOLERANCE.share || d.mean > TOLERANCE.mean);
}
