//! The list of devices a person has confirmed: remembered, forgotten, private, and a
//! damaged file refused.

use dualrec_net::{NetError, TrustedDevices};
use dualrec_proof::Identity;

#[test]
fn trusted_devices_are_remembered_and_forgotten() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("trusted-devices");
    let mut t = TrustedDevices::load(&path).expect("empty");
    let k = Identity::generate().public();
    assert!(!t.is_trusted(&k));
    t.trust(k, "Sam (social worker)").expect("save");
    let again = TrustedDevices::load(&path).expect("load");
    assert!(again.is_trusted(&k));
    assert_eq!(again.devices()[0].name, "Sam (social worker)");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777, 0o600);
    }
    let mut again = again;
    assert!(again.forget(&k).expect("forget"));
    assert!(!TrustedDevices::load(&path).expect("load").is_trusted(&k));
    std::fs::write(&path, "not-a-key Sam\n").expect("write");
    assert!(matches!(TrustedDevices::load(&path), Err(NetError::TrustStore { .. })));
}
