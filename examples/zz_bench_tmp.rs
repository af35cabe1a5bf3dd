fn main() {
    let config = tidings::config::Config::from_file(std::path::Path::new("config/tidings.toml")).unwrap();
    let t = std::time::Instant::now();
    let got = tidings::ingest::load(std::path::Path::new("/tmp/bench/seeds"), &config).unwrap();
    println!("{} articles, {} diags in {:?}", got.articles.len(), got.diagnostics.len(), t.elapsed());
}
