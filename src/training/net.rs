//! The networks: the default CNN (conv blocks with batch norm, global average pooling, dropout)
//! and the original system's `seed` CNN (2 conv, flatten, 2 dense) kept as the baseline.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{AdaptiveAvgPool2d, AdaptiveAvgPool2dConfig, MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Dropout, DropoutConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

/// A network that maps `[batch, 1, n_mels, frames]` log-mel dB to `[batch, labels]` logits.
pub trait Classifier: Module + Sized {
    /// Logits for a batch.
    fn forward(&self, x: Tensor<4>) -> Tensor<2>;
}

/// Log-mel dB (−80…0 with `ref=max`) scaled to about −1…1 inside the graph.
fn scale_input(x: Tensor<4>) -> Tensor<4> {
    x.div_scalar(40.0).add_scalar(1.0)
}

/// Conv 3×3 → batch norm → ReLU → 2×2 max pool.
#[derive(Module, Debug)]
pub struct ConvBlock {
    conv: Conv2d,
    norm: BatchNorm,
    pool: MaxPool2d,
}

impl ConvBlock {
    fn new(input: usize, output: usize, device: &Device) -> Self {
        Self {
            conv: Conv2dConfig::new([input, output], [3, 3])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .with_bias(false)
                .init(device),
            norm: BatchNormConfig::new(output).init(device),
            pool: MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.pool.forward(relu(self.norm.forward(self.conv.forward(x))))
    }
}

/// The default architecture: four conv blocks (16-32-64-128), global average pooling, dropout, linear.
#[derive(Module, Debug)]
pub struct Cnn {
    blocks: Vec<ConvBlock>,
    pool: AdaptiveAvgPool2d,
    dropout: Dropout,
    head: Linear,
}

impl Cnn {
    /// A freshly initialised network for `labels` outputs.
    pub fn new(labels: usize, device: &Device) -> Self {
        let widths = [1, 16, 32, 64, 128];
        Self {
            blocks: widths.windows(2).map(|w| ConvBlock::new(w[0], w[1], device)).collect(),
            pool: AdaptiveAvgPool2dConfig::new([1, 1]).init(),
            dropout: DropoutConfig::new(0.3).init(),
            head: LinearConfig::new(128, labels).init(device),
        }
    }
}

impl Classifier for Cnn {
    fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let x = self.blocks.iter().fold(scale_input(x), |x, block| block.forward(x));
        let x: Tensor<2> = self.pool.forward(x).flatten(1, 3);
        self.head.forward(self.dropout.forward(x))
    }
}

/// The original system's network: two conv layers, flatten, two dense layers.
#[derive(Module, Debug)]
pub struct SeedCnn {
    conv1: Conv2d,
    conv2: Conv2d,
    pool: MaxPool2d,
    dense: Linear,
    head: Linear,
}

impl SeedCnn {
    /// A freshly initialised seed network for inputs of `n_mels × frames`.
    pub fn new(labels: usize, n_mels: usize, frames: usize, device: &Device) -> Self {
        let flat = 32 * (n_mels / 4 / 4) * (frames / 4 / 4);
        Self {
            conv1: Conv2dConfig::new([1, 16], [3, 3]).with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1)).init(device),
            conv2: Conv2dConfig::new([16, 32], [3, 3]).with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1)).init(device),
            pool: MaxPool2dConfig::new([4, 4]).with_strides([4, 4]).init(),
            dense: LinearConfig::new(flat, 64).init(device),
            head: LinearConfig::new(64, labels).init(device),
        }
    }
}

impl Classifier for SeedCnn {
    fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let x = self.pool.forward(relu(self.conv1.forward(scale_input(x))));
        let x = self.pool.forward(relu(self.conv2.forward(x)));
        let x: Tensor<2> = x.flatten(1, 3);
        self.head.forward(relu(self.dense.forward(x)))
    }
}
