//! `cargo xtask image`: the minimal worker image of `deploy/image/Containerfile`, built and
//! checked here without pulling anything.
//!
//! 1. `heaven` is built for `x86_64-unknown-linux-musl` (Debian's `musl-gcc` for the C parts)
//!    and its ELF headers must show a static binary ([`elf::check_static`]).
//! 2. The build context is staged next to the binary: `heaven`, `etc/passwd` and `etc/group`
//!    with the non-root user 65532, the host's CA bundle, empty `data/` and `tmp/`.
//! 3. `buildah bud --isolation chroot` builds the image `FROM scratch` (nothing to pull).
//! 4. The image is checked: its user is `65532:65532`, its root file system holds exactly the
//!    staged files (so nothing came from a base), and the binary, run inside it with
//!    `buildah run`, serves the resolver's `/health` and writes its data as uid 65532.
//!
//! Each failure names the file and the field that is wrong.

mod elf;

use std::{
    collections::BTreeSet,
    fs,
    io::{Read, Write},
    net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream},
    os::unix::fs::{MetadataExt, PermissionsExt},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    thread,
    time::{Duration, Instant},
};

use crate::{
    canisters::Workspace,
    error::{Error, Result},
    proc, tools,
};

/// The rustup target of the static binary.
pub const MUSL_TARGET: &str = "x86_64-unknown-linux-musl";

/// The image recipe, relative to the workspace root.
pub const CONTAINERFILE: &str = "deploy/image/Containerfile";

/// The tag the image is built under.
pub const TAG: &str = "localhost/heaven:minimal";

/// The non-root user (and group) the image runs as: distroless' `nonroot` id.
pub const USER_ID: u32 = 65532;

/// The host's CA bundle (Debian `ca-certificates`), copied into the image.
const HOST_CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// Where the CA bundle lives in the image (`SSL_CERT_FILE` in the Containerfile).
const IMAGE_CA_BUNDLE: &str = "etc/ssl/certs/ca-certificates.crt";

/// How long the binary in the image may take to answer `/health`.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Builds and checks the image with the cargo `profile` (`release` for the production image;
/// CI uses `image-check`, see the workspace Cargo.toml).
pub fn build(root: &Path, profile: &str) -> Result<()> {
    tools::ensure_target(MUSL_TARGET)?;
    let binary = build_static_binary(root, profile)?;
    let bytes = fs::read(&binary).map_err(|e| Error::io(&binary, e))?;
    let facts = elf::check_static(&bytes).map_err(|e| {
        Error::Unexpected(format!("{}: not a static binary: {e}", binary.display()))
    })?;
    println!(
        "{} is static ({}), {:.1} MiB",
        binary.display(),
        if facts.pie { "static PIE" } else { "ET_EXEC" },
        bytes.len() as f64 / (1024.0 * 1024.0)
    );

    let context = binary.with_file_name("image-context");
    stage_context(&binary, &context)?;
    let buildah = Buildah;
    buildah.remove_image(TAG);
    proc::run(
        buildah
            .cmd()
            .args(["bud", "--isolation", "chroot", "--layers=false"])
            .args([
                "-f".as_ref(),
                root.join(CONTAINERFILE).as_os_str(),
                "-t".as_ref(),
                TAG.as_ref(),
                context.as_os_str(),
            ]),
    )?;
    check_config(&buildah)?;
    let container = buildah.container()?;
    let checked = check_container(&buildah, &container);
    buildah.remove_container(&container);
    checked?;
    let size = proc::output(buildah.cmd().args(["images", "--format", "{{.Size}}", TAG]))?;
    println!("image {TAG}: {}", size.trim());
    Ok(())
}

/// `cargo build -p heaven --target x86_64-unknown-linux-musl --profile <profile>`; returns the
/// binary's path.
fn build_static_binary(root: &Path, profile: &str) -> Result<PathBuf> {
    proc::run(
        proc::cargo()
            .current_dir(root)
            .args(["build", "--locked", "-p", "heaven", "--bin", "heaven"])
            .args(["--target", MUSL_TARGET, "--profile", profile])
            // ring and libsqlite3-sys compile C; Debian's musl wrapper targets musl's libc.
            .env("CC_x86_64_unknown_linux_musl", "musl-gcc"),
    )?;
    let dir = match profile {
        "dev" | "test" => "debug",
        "bench" => "release",
        other => other,
    };
    Ok(Workspace::load(root)?
        .target_dir
        .join(MUSL_TARGET)
        .join(dir)
        .join("heaven"))
}

/// The files the staged context (and so the image) holds, relative to its root.
fn expected_files() -> BTreeSet<String> {
    [
        "heaven",
        "etc/passwd",
        "etc/group",
        IMAGE_CA_BUNDLE,
        "data",
        "tmp",
        "etc",
        "etc/ssl",
        "etc/ssl/certs",
    ]
    .into_iter()
    .map(String::from)
    .collect()
}

/// Writes the build context into `context` (emptied first).
fn stage_context(binary: &Path, context: &Path) -> Result<()> {
    if context.exists() {
        fs::remove_dir_all(context).map_err(|e| Error::io(context, e))?;
    }
    let write = |rel: &str, body: &[u8]| -> Result<()> {
        let path = context.join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        fs::write(&path, body).map_err(|e| Error::io(&path, e))
    };
    let ca = fs::read(HOST_CA_BUNDLE).map_err(|e| {
        Error::Unexpected(format!(
            "{HOST_CA_BUNDLE}: {e} (install Debian's ca-certificates; the image carries the bundle)"
        ))
    })?;
    write(IMAGE_CA_BUNDLE, &ca)?;
    write(
        "etc/passwd",
        format!("root:x:0:0:root:/root:/sbin/nologin\nheaven:x:{USER_ID}:{USER_ID}:heaven:/data:/sbin/nologin\n")
            .as_bytes(),
    )?;
    write(
        "etc/group",
        format!("root:x:0:\nheaven:x:{USER_ID}:\n").as_bytes(),
    )?;
    for (dir, mode) in [("data", 0o755), ("tmp", 0o1777)] {
        let path = context.join(dir);
        fs::create_dir_all(&path).map_err(|e| Error::io(&path, e))?;
        fs::set_permissions(&path, fs::Permissions::from_mode(mode))
            .map_err(|e| Error::io(&path, e))?;
    }
    let target = context.join("heaven");
    fs::copy(binary, &target).map_err(|e| Error::io(&target, e))?;
    Ok(())
}

/// Buildah on the `vfs` storage driver (no overlay mounts needed in this sandbox).
struct Buildah;

impl Buildah {
    fn cmd(&self) -> Command {
        let mut cmd = Command::new("buildah");
        cmd.args(["--storage-driver", "vfs"]);
        cmd
    }

    /// Removes an earlier build of `tag`, so old images do not pile up in vfs storage.
    fn remove_image(&self, tag: &str) {
        let _ = proc::output(self.cmd().args(["rmi", "--force", tag]));
    }

    /// A working container of [`TAG`].
    fn container(&self) -> Result<String> {
        Ok(
            proc::output(self.cmd().args(["from", "--pull=false", TAG]))?
                .trim()
                .to_string(),
        )
    }

    fn remove_container(&self, container: &str) {
        let _ = proc::output(self.cmd().args(["umount", container]));
        let _ = proc::output(self.cmd().args(["rm", container]));
    }

    /// The image's OCI configuration (`OCIv1.config` of `buildah inspect`'s JSON; Debian's
    /// buildah 1.28 has no `json` template function, so the whole document is parsed).
    fn image_config(&self) -> Result<serde_json::Value> {
        let text = proc::output(self.cmd().args(["inspect", "--type", "image", TAG]))?;
        let document: serde_json::Value =
            serde_json::from_str(&text).map_err(|source| Error::Json {
                path: format!("buildah inspect {TAG}").into(),
                source,
            })?;
        document
            .pointer("/OCIv1/config")
            .cloned()
            .ok_or_else(|| Error::Unexpected(format!("buildah inspect {TAG}: no OCIv1.config")))
    }
}

/// The image's configuration: user, entrypoint.
fn check_config(buildah: &Buildah) -> Result<()> {
    let config = buildah.image_config()?;
    let user = config.get("User").and_then(|u| u.as_str()).unwrap_or("");
    let wanted = format!("{USER_ID}:{USER_ID}");
    if user != wanted {
        return Err(Error::Unexpected(format!(
            "{CONTAINERFILE}: USER is `{user}`, the image must run as {wanted} (non-root)"
        )));
    }
    let entrypoint = config
        .get("Entrypoint")
        .cloned()
        .unwrap_or(serde_json::Value::Null);
    if entrypoint != serde_json::json!(["/heaven"]) {
        return Err(Error::Unexpected(format!(
            "{CONTAINERFILE}: ENTRYPOINT is {entrypoint}, expected [\"/heaven\"]"
        )));
    }
    println!("image config: user {user}, entrypoint {entrypoint}");
    Ok(())
}

/// The container's root file system and a run of the binary inside it.
fn check_container(buildah: &Buildah, container: &str) -> Result<()> {
    let mount = PathBuf::from(
        proc::output(buildah.cmd().args(["mount", container]))?
            .trim()
            .to_string(),
    );
    let found = list_tree(&mount)?;
    let expected = expected_files();
    if found != expected {
        let extra: Vec<_> = found.difference(&expected).collect();
        let missing: Vec<_> = expected.difference(&found).collect();
        return Err(Error::Unexpected(format!(
            "{CONTAINERFILE}: the image's files differ from the staged context \
             (extra: {extra:?}, missing: {missing:?}); it must be FROM scratch"
        )));
    }
    let data = mount.join("data");
    let owner = fs::metadata(&data).map_err(|e| Error::io(&data, e))?.uid();
    if owner != USER_ID {
        return Err(Error::Unexpected(format!(
            "{CONTAINERFILE}: /data belongs to uid {owner}, not {USER_ID} (COPY --chown)"
        )));
    }
    println!("image files: exactly the {} staged entries", found.len());

    let port = free_port()?;
    let mut server = ServerInImage::start(buildah, container, port)?;
    let answered = wait_for_health(port, START_TIMEOUT);
    server.stop();
    let log = server.log();
    match answered {
        Some(200) => println!("/heaven serve resolver in the image answered /health 200"),
        other => {
            return Err(Error::Unexpected(format!(
                "{CONTAINERFILE}: `/heaven serve resolver` in the image did not answer /health \
                 with 200 within {START_TIMEOUT:?} (got {other:?}); its output:\n{log}"
            )));
        }
    }
    let written = files_under(&data)?;
    if written.is_empty() {
        return Err(Error::Unexpected(format!(
            "the resolver in the image wrote nothing under /data; its output:\n{log}"
        )));
    }
    for (path, uid) in &written {
        if *uid != USER_ID {
            return Err(Error::Unexpected(format!(
                "{CONTAINERFILE}: the binary ran as uid {uid}, not {USER_ID}: it wrote {}",
                path.display()
            )));
        }
    }
    println!(
        "it ran as uid {USER_ID} (wrote {} file(s) under /data)",
        written.len()
    );
    Ok(())
}

/// Every entry under `root` (files and directories), relative, `/`-separated.
fn list_tree(root: &Path) -> Result<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))? {
            let path = entry.map_err(|e| Error::io(&dir, e))?.path();
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .into_owned();
            if path.is_dir() && !path.is_symlink() {
                stack.push(path);
            }
            out.insert(rel);
        }
    }
    Ok(out)
}

/// Files under `dir` (recursively) with their owner's uid.
fn files_under(dir: &Path) -> Result<Vec<(PathBuf, u32)>> {
    let mut out = Vec::new();
    for rel in list_tree(dir)? {
        let path = dir.join(rel);
        let meta = fs::symlink_metadata(&path).map_err(|e| Error::io(&path, e))?;
        out.push((path, meta.uid()));
    }
    Ok(out)
}

/// A port nobody listens on right now.
fn free_port() -> Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(|e| Error::Unexpected(format!("binding a free port: {e}")))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| Error::Unexpected(format!("reading a free port: {e}")))
}

/// `GET /health` on 127.0.0.1:`port` until it answers or `timeout` passes; the status code.
fn wait_for_health(port: u16, timeout: Duration) -> Option<u16> {
    let deadline = Instant::now() + timeout;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    while Instant::now() < deadline {
        if let Some(status) = get_status(addr) {
            return Some(status);
        }
        thread::sleep(Duration::from_millis(200));
    }
    None
}

/// The status code of `GET /health` over HTTP/1.0, if the server answered.
fn get_status(addr: SocketAddr) -> Option<u16> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    stream
        .write_all(b"GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .ok()?;
    let mut head = String::new();
    stream.read_to_string(&mut head).ok()?;
    head.split_whitespace().nth(1)?.parse().ok()
}

/// `heaven serve resolver` running inside the image's container (`buildah run`).
struct ServerInImage {
    child: Child,
    log: PathBuf,
}

impl ServerInImage {
    fn start(buildah: &Buildah, container: &str, port: u16) -> Result<Self> {
        let log = std::env::temp_dir().join(format!("heaven-image-run-{port}.log"));
        let file = fs::File::create(&log).map_err(|e| Error::io(&log, e))?;
        let err = file.try_clone().map_err(|e| Error::io(&log, e))?;
        let mut cmd = buildah.cmd();
        cmd.args(["run", "--isolation", "chroot", "--network", "host"])
            .args(["-e", "HEAVEN_BIND_ADDR=127.0.0.1"])
            .args(["-e", &format!("METADATA_RESOLVER_PORT={port}")])
            .args(["-e", "LOG_FORMAT=text"])
            .args([container, "--", "/heaven", "serve", "resolver"])
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(err);
        println!("$ {}", proc::display(&cmd));
        let child = cmd.spawn().map_err(|source| Error::Spawn {
            command: proc::display(&cmd),
            source,
        })?;
        Ok(Self { child, log })
    }

    /// SIGTERM (buildah passes it on), then SIGKILL after 10 s.
    fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for ServerInImage {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.stop();
        }
        let _ = fs::remove_file(&self.log);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_staged_context_is_exactly_the_expected_tree() {
        let dir = tempfile::tempdir().unwrap();
        let binary = dir.path().join("heaven");
        fs::write(&binary, b"binary").unwrap();
        if !Path::new(HOST_CA_BUNDLE).exists() {
            // ca-certificates is part of every Debian base here; say so rather than pass.
            panic!("{HOST_CA_BUNDLE} is missing on this machine");
        }
        let context = dir.path().join("image-context");
        stage_context(&binary, &context).unwrap();
        assert_eq!(list_tree(&context).unwrap(), expected_files());
        let passwd = fs::read_to_string(context.join("etc/passwd")).unwrap();
        assert!(
            passwd.contains(&format!("heaven:x:{USER_ID}:{USER_ID}:")),
            "{passwd}"
        );
        let tmp_mode = fs::metadata(context.join("tmp"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(tmp_mode & 0o7777, 0o1777);
        // Staging again starts from an empty directory.
        fs::write(context.join("stray"), b"x").unwrap();
        stage_context(&binary, &context).unwrap();
        assert_eq!(list_tree(&context).unwrap(), expected_files());
    }

    #[test]
    fn the_containerfile_starts_from_scratch_and_runs_as_the_non_root_user() {
        let text = fs::read_to_string(crate::workspace_root().join(CONTAINERFILE)).unwrap();
        let from: Vec<_> = text.lines().filter(|l| l.starts_with("FROM ")).collect();
        assert_eq!(
            from,
            ["FROM scratch"],
            "{CONTAINERFILE}: one stage, from scratch"
        );
        assert!(text.contains(&format!("USER {USER_ID}:{USER_ID}")));
        assert!(text.contains("SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"));
    }

    #[test]
    fn health_probe_reads_the_status_line() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let addr = listener.local_addr().unwrap();
        let server = thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut buf = [0u8; 256];
            let _ = s.read(&mut buf).unwrap();
            s.write_all(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n")
                .unwrap();
        });
        assert_eq!(get_status(addr), Some(503));
        server.join().unwrap();
        let closed = free_port().unwrap();
        assert_eq!(wait_for_health(closed, Duration::from_millis(300)), None);
    }
}
