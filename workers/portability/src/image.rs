//! `ImageTransformer`: resizing and re-encoding of user images (covers, avatars, photos).
//!
//! The photo pipeline turns an uploaded image into bounded, metadata-free renditions. Trait
//! only: the adapter (image crate + fast_image_resize) comes with the media worker.

use async_trait::async_trait;

use crate::error::Result;

/// Output encodings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageFormat {
    /// JPEG (lossy, no alpha: transparent pixels are flattened onto white).
    Jpeg,
    /// PNG (lossless).
    Png,
    /// WebP (lossy when `quality < 100`, lossless at 100).
    WebP,
}

/// How the image fits the requested box.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fit {
    /// Scale down to fit inside the box, keeping the aspect ratio (one side may be smaller).
    Contain,
    /// Scale to cover the box, keeping the aspect ratio, then crop the centre to exactly the box.
    Cover,
}

/// One rendition to produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TransformRequest {
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

/// Decodes, resizes and re-encodes images.
#[async_trait]
pub trait ImageTransformer: Send + Sync {
    /// Produces one rendition of `input` (JPEG, PNG, WebP or GIF first frame).
    ///
    /// Contract: the EXIF orientation is applied and all metadata (EXIF, GPS, ICC beyond sRGB
    /// conversion) is stripped; images are never upscaled (a smaller input keeps its size,
    /// cropped for `Cover` only if larger than the box on one side); the output is
    /// deterministic for the same input and request. Undecodable input, a zero-sized box or a
    /// quality outside 1..=100 is [`InvalidInput`](crate::PortabilityError::InvalidInput);
    /// inputs above the adapter's pixel limit (decompression bombs) too. CPU-bound work runs
    /// off the async executor.
    async fn transform(&self, input: Vec<u8>, request: &TransformRequest) -> Result<EncodedImage>;
}
