//! [`RasterImageTransformer`]: the [`ImageTransformer`] on the `image` crate's decoders,
//! fast_image_resize, and the encoders of `raster_image::encode`, on tokio's blocking pool.
//!
//! A decoded 12 MP photo is 36 MB of pixels, so the number of images in flight is bounded by a
//! semaphore (by default one per core): more concurrent requests wait their turn instead of
//! multiplying the peak memory.

mod decode;
mod encode;
mod geometry;
mod pixels;

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::Semaphore;

use crate::error::{PortabilityError, Result};
use crate::image::{EncodedImage, ImageInfo, ImageTransformer, TransformRequest};

/// The default limit on an input's pixel count: 50 megapixels (an 8660×5773 camera frame).
pub const DEFAULT_MAX_PIXELS: u64 = 50_000_000;

/// The `image`-crate adapter of [`ImageTransformer`].
#[derive(Debug, Clone)]
pub struct RasterImageTransformer {
    max_pixels: u64,
    permits: Arc<Semaphore>,
}

impl Default for RasterImageTransformer {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Self::new(DEFAULT_MAX_PIXELS, cores)
    }
}

impl RasterImageTransformer {
    /// A transformer refusing inputs above `max_pixels` and working on at most `concurrency`
    /// images at once (each at least 1).
    pub fn new(max_pixels: u64, concurrency: usize) -> Self {
        Self {
            max_pixels: max_pixels.max(1),
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
        }
    }

    /// The pixel limit in force.
    pub fn max_pixels(&self) -> u64 {
        self.max_pixels
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| PortabilityError::Backend {
                backend: "image",
                message: "transformer closed".to_owned(),
            })?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|err| PortabilityError::Backend {
                backend: "image",
                message: format!("image task failed: {err}"),
            })?
    }
}

fn check(request: &TransformRequest) -> Result<()> {
    if request.max_width == 0 || request.max_height == 0 {
        return Err(PortabilityError::InvalidInput(format!(
            "box of {}x{} is empty",
            request.max_width, request.max_height
        )));
    }
    if !(1..=100).contains(&request.quality) {
        return Err(PortabilityError::InvalidInput(format!(
            "quality {} is outside 1..=100",
            request.quality
        )));
    }
    if let Some(overlay) = request
        .overlays
        .iter()
        .find(|o| !(0.0..=1.0).contains(&o.opacity))
    {
        return Err(PortabilityError::InvalidInput(format!(
            "overlay opacity {} is outside 0..=1",
            overlay.opacity
        )));
    }
    Ok(())
}

/// Produces one rendition from decoded pixels.
fn render(
    resizer: &mut fast_image_resize::Resizer,
    picture: &decode::Picture,
    request: &TransformRequest,
) -> Result<EncodedImage> {
    let (left, top, width, height) =
        geometry::trimmed(picture.width, picture.height, request.trim)?;
    let plan = geometry::plan(
        width,
        height,
        request.max_width,
        request.max_height,
        request.fit,
    );
    let trimmed = pixels::crop(picture, left, top, width, height);
    let mut fitted = pixels::resample(resizer, trimmed, &plan)?;
    for overlay in &request.overlays {
        pixels::draw(&mut fitted, overlay);
    }
    let (width, height) = (fitted.width, fitted.height);
    let bytes = encode::encode(fitted, request.format, request.quality)?;
    Ok(EncodedImage {
        bytes,
        format: request.format,
        width,
        height,
    })
}

#[async_trait]
impl ImageTransformer for RasterImageTransformer {
    async fn info(&self, input: &[u8]) -> Result<ImageInfo> {
        // Header parsing only: cheap enough to stay on the executor.
        decode::info(input, self.max_pixels)
    }

    async fn renditions(
        &self,
        input: Vec<u8>,
        requests: &[TransformRequest],
    ) -> Result<Vec<EncodedImage>> {
        requests.iter().try_for_each(check)?;
        let requests = requests.to_vec();
        let max_pixels = self.max_pixels;
        self.blocking(move || {
            let picture = decode::decode(&input, max_pixels)?;
            drop(input);
            let mut resizer = fast_image_resize::Resizer::new();
            requests
                .iter()
                .map(|request| render(&mut resizer, &picture, request))
                .collect()
        })
        .await
    }
}
