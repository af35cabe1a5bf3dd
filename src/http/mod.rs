//! Placeholder until the HTTP service lands.

use std::path::PathBuf;

use crate::config::Config;

pub async fn run(
    _config: Config,
    _config_path: PathBuf,
    _seeds_dir: PathBuf,
    _listen: String,
) -> std::io::Result<()> {
    unimplemented!("serve")
}
