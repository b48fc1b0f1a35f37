//! `ImageTransformer`: decoding, trimming, resizing, compositing and re-encoding of user images
//! (photos, anime tiles, per-viewer watermarked reveals).
//!
//! The photo pipeline turns an uploaded image into bounded, metadata-free renditions, in the
//! terms of the Cloudflare Images calls the original made (`trim`, `fit: scale-down | cover`,
//! `draw`, `output`). The adapter on the `image` crate is
//! [`RasterImageTransformer`](crate::adapters::RasterImageTransformer) (feature
//! `image-transformer`).

use std::sync::Arc;

use async_trait::async_trait;

use crate::error::{PortabilityError, Result};

/// Encodings (input and output).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageFormat {
    /// JPEG (lossy, no alpha: transparent pixels are flattened onto white).
    Jpeg,
    /// PNG (lossless).
    Png,
    /// WebP (lossy when `quality < 100`, lossless at 100).
    WebP,
}

impl ImageFormat {
    /// The media type (`image/jpeg`, `image/png`, `image/webp`).
    pub fn mime_type(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::WebP => "image/webp",
        }
    }
}

/// How the image fits the requested box.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fit {
    /// Scale down to fit inside the box, keeping the aspect ratio (one side may be smaller);
    /// never upscales (Cloudflare's `scale-down`).
    Contain,
    /// Crop the centre to the box's aspect ratio, then scale (down or up) to exactly the box
    /// (Cloudflare's `cover`).
    Cover,
}

/// Pixels removed from each edge before fitting (Cloudflare's `trim`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Trim {
    /// Rows removed at the top.
    pub top: u32,
    /// Columns removed at the right.
    pub right: u32,
    /// Rows removed at the bottom.
    pub bottom: u32,
    /// Columns removed at the left.
    pub left: u32,
}

/// A decoded RGBA picture with straight (not premultiplied) alpha, 8 bits per channel, rows
/// top to bottom: what overlays are drawn from.
#[derive(Clone, PartialEq, Eq)]
pub struct RgbaLayer {
    width: u32,
    height: u32,
    pixels: Vec<u8>,
}

impl std::fmt::Debug for RgbaLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RgbaLayer")
            .field("width", &self.width)
            .field("height", &self.height)
            .finish_non_exhaustive()
    }
}

impl RgbaLayer {
    /// A layer of `width × height` pixels from `pixels` (`4 · width · height` bytes, RGBA).
    pub fn new(width: u32, height: u32, pixels: Vec<u8>) -> Result<Self> {
        let expected = (width as usize)
            .checked_mul(height as usize)
            .and_then(|n| n.checked_mul(4));
        if width == 0 || height == 0 || expected != Some(pixels.len()) {
            return Err(PortabilityError::InvalidInput(format!(
                "an RGBA layer of {width}x{height} needs {} bytes, got {}",
                expected.map_or_else(|| "too many".to_owned(), |n| n.to_string()),
                pixels.len()
            )));
        }
        Ok(Self {
            width,
            height,
            pixels,
        })
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// The RGBA bytes, row by row.
    pub fn pixels(&self) -> &[u8] {
        &self.pixels
    }

    /// The RGBA bytes, owned.
    pub fn into_pixels(self) -> Vec<u8> {
        self.pixels
    }
}

/// A layer drawn over the fitted image (Cloudflare's `draw`), with the "over" operator.
#[derive(Debug, Clone, PartialEq)]
pub struct Overlay {
    /// What is drawn (shared: a viewer's watermark is drawn over many photos).
    pub layer: Arc<RgbaLayer>,
    /// Column of the layer's left edge in the fitted image (may be negative: clipped).
    pub left: i64,
    /// Row of the layer's top edge in the fitted image (may be negative: clipped).
    pub top: i64,
    /// Multiplies the layer's alpha, 0.0..=1.0.
    pub opacity: f32,
}

/// One rendition to produce: trim, fit, draw overlays, encode — in that order.
#[derive(Debug, Clone, PartialEq)]
pub struct TransformRequest {
    /// Edges removed from the (oriented) input first.
    pub trim: Trim,
    /// Box width in pixels (at least 1).
    pub max_width: u32,
    /// Box height in pixels (at least 1).
    pub max_height: u32,
    /// How to fit the box.
    pub fit: Fit,
    /// Output encoding.
    pub format: ImageFormat,
    /// Encoder quality, 1..=100 (ignored by PNG).
    pub quality: u8,
    /// Layers drawn over the fitted image, in order.
    pub overlays: Vec<Overlay>,
}

impl TransformRequest {
    /// A request without trim or overlays.
    pub fn new(
        max_width: u32,
        max_height: u32,
        fit: Fit,
        format: ImageFormat,
        quality: u8,
    ) -> Self {
        Self {
            trim: Trim::default(),
            max_width,
            max_height,
            fit,
            format,
            quality,
            overlays: Vec::new(),
        }
    }

    /// The same request, trimming `trim` first.
    pub fn with_trim(mut self, trim: Trim) -> Self {
        self.trim = trim;
        self
    }

    /// The same request, drawing `overlay` after the ones already there.
    pub fn with_overlay(mut self, overlay: Overlay) -> Self {
        self.overlays.push(overlay);
        self
    }
}

/// An encoded rendition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedImage {
    /// The encoded bytes.
    pub bytes: Vec<u8>,
    /// Their encoding (the requested one).
    pub format: ImageFormat,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

/// What an image's header says, read without decoding its pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageInfo {
    /// The input's encoding.
    pub format: ImageFormat,
    /// Width as displayed (after the EXIF orientation).
    pub width: u32,
    /// Height as displayed (after the EXIF orientation).
    pub height: u32,
}

/// Decodes, trims, resizes, composites and re-encodes images.
///
/// Contract (every adapter; `tests/image_transformer_contract.rs`):
/// - inputs are JPEG, PNG or WebP, recognised by their bytes (not a declared type); anything
///   else, undecodable bytes, and images whose header announces more pixels than the adapter's
///   limit (decompression bombs, refused before any pixel is decoded) are
///   [`InvalidInput`](crate::PortabilityError::InvalidInput);
/// - the EXIF orientation is applied, then every piece of metadata (EXIF, GPS, XMP, ICC, text
///   chunks) is left out of the output;
/// - a zero-sized box, a quality outside 1..=100, or a trim that leaves nothing is
///   `InvalidInput`;
/// - the output is deterministic for the same input and request on one machine;
/// - CPU-bound work runs off the async executor.
#[async_trait]
pub trait ImageTransformer: Send + Sync {
    /// Reads the format and displayed size of `input` from its header.
    async fn info(&self, input: &[u8]) -> Result<ImageInfo>;

    /// Produces every rendition of `requests` from one decode of `input`, in order.
    async fn renditions(
        &self,
        input: Vec<u8>,
        requests: &[TransformRequest],
    ) -> Result<Vec<EncodedImage>>;

    /// Produces one rendition of `input`.
    async fn transform(&self, input: Vec<u8>, request: &TransformRequest) -> Result<EncodedImage> {
        let mut out = self
            .renditions(input, std::slice::from_ref(request))
            .await?;
        out.pop().ok_or_else(|| PortabilityError::Backend {
            backend: "image",
            message: "no rendition produced".to_owned(),
        })
    }
}
