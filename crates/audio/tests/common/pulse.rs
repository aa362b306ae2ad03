//! A private PulseAudio daemon with a null sink whose monitor is the default input: a
//! virtual microphone (shared/MACHINE-NOTES.md). Programs see it through [`Pulse::cmd`].

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) struct Pulse {
    dir: tempfile::TempDir,
}

impl Pulse {
    pub(crate) fn start() -> Pulse {
        let dir = tempfile::tempdir().expect("tmp");
        for sub in ["run", "config", "state"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("mkdir");
        }
        let run = dir.path().join("run");
        std::fs::set_permissions(&run, std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .expect("chmod");
        let p = Pulse { dir };
        let log = format!("--log-target=file:{}", p.dir.path().join("pa.log").display());
        let status = p
            .cmd("pulseaudio")
            .args(["-D", "-n", "--exit-idle-time=-1", "--disallow-exit", &log])
            .args(["--load=module-native-protocol-unix", "--load=module-always-sink"])
            .arg("--load=module-null-sink sink_name=vmic rate=48000 channels=1 format=s16le")
            .status()
            .expect("pulseaudio must be installed (.ci/setup installs it)");
        assert!(status.success(), "pulseaudio did not start: {}", p.log());
        let t = Instant::now();
        while !p.cmd("pactl").arg("info").stdout(Stdio::null()).status().is_ok_and(|s| s.success())
        {
            assert!(
                t.elapsed() < Duration::from_secs(15),
                "pulseaudio never answered: {}",
                p.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        for args in [["set-default-sink", "vmic"], ["set-default-source", "vmic.monitor"]] {
            assert!(p.cmd("pactl").args(args).status().is_ok_and(|s| s.success()));
        }
        p
    }

    pub(crate) fn cmd(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        let d = self.dir.path();
        c.env("XDG_RUNTIME_DIR", d.join("run"))
            .env("XDG_CONFIG_HOME", d.join("config"))
            .env("PULSE_STATE_PATH", d.join("state"))
            .env("HOME", d);
        c
    }

    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("pa.log")).unwrap_or_default()
    }

    pub(crate) fn pid(&self) -> Option<i32> {
        std::fs::read_to_string(self.dir.path().join("run/pulse/pid")).ok()?.trim().parse().ok()
    }

    pub(crate) fn kill(&self) {
        if let Some(pid) = self.pid() {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
    }
}

impl Drop for Pulse {
    fn drop(&mut self) {
        self.kill();
    }
}
