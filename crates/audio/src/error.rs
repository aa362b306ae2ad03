//! Typed errors that say what and where.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AudioError {
    #[error("no microphone found{}", .0.as_deref().map(|n| format!(" named {n:?}")).unwrap_or_default())]
    NoDevice(Option<String>),
    #[error("microphone {device:?}: {detail}")]
    Device { device: String, detail: String },
    #[error("the microphone {device:?} disappeared while recording")]
    DeviceLost { device: String },
    #[error("sample format {0} is not supported")]
    SampleFormat(String),
    #[error("cannot read {path}: {detail}")]
    Wav { path: PathBuf, detail: String },
    #[error("{path}: {detail}")]
    WavFormat { path: PathBuf, detail: String },
    #[error("the Opus encoder failed: {0}")]
    Encoder(String),
    #[error("resampling from {rate} Hz failed: {detail}")]
    Resampler { rate: u32, detail: String },
}
