//! Published test vectors: FIPS 180-4's examples (as in NIST's "SHA examples" document),
//! RFC 4231's HMAC-SHA-256/512 cases, RFC 7677's SCRAM-SHA-256 exchange and RFC 5802's
//! SCRAM-SHA-1 exchange.

use super::base64;
use super::hmac::{hi, hmac, HmacKey};
use super::scram::{Mechanism, ScramServer};
use super::sha1::Sha1;
use super::sha2::{Hash, Sha256, Sha512};

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

const M448: &[u8] = b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
const M896: &[u8] = b"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";

#[test]
fn sha256_fips_examples() {
    let cases: [(&[u8], &str); 3] = [
        (b"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (M448, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        (b"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    ];
    for (m, want) in cases {
        assert_eq!(hex(&Sha256::digest(m)), want);
    }
    // A million "a"s fed in uneven pieces crosses every buffering path.
    let mut h = Sha256::new();
    let mut left = 1_000_000;
    for n in [1usize, 63, 64, 65, 127, 1000].iter().cycle() {
        let n = (*n).min(left);
        h.update(&vec![b'a'; n]);
        left -= n;
        if left == 0 {
            break;
        }
    }
    assert_eq!(
        hex(&h.finish()),
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
    );
}

#[test]
fn sha512_fips_examples() {
    let cases: [(&[u8], &str); 3] = [
        (b"abc", "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"),
        (M896, "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909"),
        (b"", "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"),
    ];
    for (m, want) in cases {
        assert_eq!(hex(&Sha512::digest(m)), want);
    }
    assert_eq!(
        hex(&Sha512::digest(&vec![b'a'; 1_000_000])),
        "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973ebde0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b"
    );
    // Padding at every length around the block's length field.
    for n in 100..=130 {
        let whole = Sha512::digest(&vec![7u8; n]);
        let mut h = Sha512::new();
        h.update(&vec![7u8; n / 2]);
        h.update(&vec![7u8; n - n / 2]);
        assert_eq!(h.finish(), whole, "{n}");
    }
}

#[test]
fn hmac_rfc4231() {
    let long_key = [0xaau8; 131];
    let cases: [(&[u8], &[u8], &str, &str); 6] = [
        (&[0x0b; 20], b"Hi There",
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
         "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854"),
        (b"Jefe", b"what do ya want for nothing?",
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
         "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"),
        (&[0xaa; 20], &[0xdd; 50],
         "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
         "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb"),
        (&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25], &[0xcd; 50],
         "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
         "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3dba91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd"),
        (&long_key, b"Test Using Larger Than Block-Size Key - Hash Key First",
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
         "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598"),
        (&long_key, b"This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.",
         "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
         "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58"),
    ];
    for (key, msg, want256, want512) in cases {
        assert_eq!(hex(&hmac::<Sha256>(key, msg)), want256);
        assert_eq!(hex(&hmac::<Sha512>(key, msg)), want512);
        // A prepared key gives the same MAC for a message in pieces.
        let (a, b) = msg.split_at(msg.len() / 2);
        assert_eq!(hex(&HmacKey::<Sha256>::new(key).mac(&[a, b])), want256);
    }
}

#[test]
fn scram_sha1_rfc5802_example_through_the_shared_hmac_and_hi() {
    let salt = base64::decode("QSXCR+Q6sek8bf92").unwrap();
    let salted = hi::<Sha1>(b"pencil", &salt, 4096);
    let client_key = hmac::<Sha1>(&salted, b"Client Key");
    let stored_key = Sha1::digest(&client_key);
    let auth = b"n=user,r=fyko+d2lbbFgONRv9qkxdawL,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096,c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j";
    let signature = hmac::<Sha1>(&stored_key, auth);
    let proof: Vec<u8> = client_key.iter().zip(&signature).map(|(a, b)| a ^ b).collect();
    assert_eq!(base64::encode(&proof), "v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=");
    let server_key = hmac::<Sha1>(&salted, b"Server Key");
    assert_eq!(base64::encode(&hmac::<Sha1>(&server_key, auth)), "rmF9pqV8S7suAoZWja4dJRkFsKQ=");
}

const RFC7677_NONCE: &str = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
const RFC7677_FINAL: &str = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";

fn rfc7677_server(password: &[u8]) -> ScramServer {
    let m = Mechanism::ScramSha256;
    let salt = base64::decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap();
    let cred = m.credential(&m.salted_password(password, &salt, 4096), &salt, 4096);
    let mut s = ScramServer::new(m);
    let first = s
        .client_first(
            b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
            |u| (u == "user").then_some(cred),
            RFC7677_NONCE,
        )
        .unwrap();
    assert_eq!(
        String::from_utf8(first).unwrap(),
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
    );
    s
}

#[test]
fn scram_sha256_rfc7677_exchange() {
    let mut s = rfc7677_server(b"pencil");
    let (last, user) = s.client_final(RFC7677_FINAL.as_bytes()).unwrap();
    assert_eq!(user, "user");
    assert_eq!(String::from_utf8(last).unwrap(), "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
    // The exchange is over: a replayed final message is refused.
    assert!(s.client_final(RFC7677_FINAL.as_bytes()).is_err());
}

#[test]
fn scram_refuses_wrong_proofs_nonces_and_bindings() {
    // The right proof for another password.
    assert!(rfc7677_server(b"pencil2").client_final(RFC7677_FINAL.as_bytes()).is_err());
    let bad = [
        RFC7677_FINAL.replace("p=dHzb", "p=dHzc"),
        RFC7677_FINAL.replace("hNlF$k0,", "hNlF$k1,"),
        RFC7677_FINAL.replace("c=biws", "c=eSws"),
        RFC7677_FINAL.replace(",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", ""),
        RFC7677_FINAL.replace("AndVQ=", "AndV"),
    ];
    for msg in bad {
        assert!(rfc7677_server(b"pencil").client_final(msg.as_bytes()).is_err(), "{msg}");
    }
}

#[test]
fn scram_client_first_errors() {
    let m = Mechanism::ScramSha512;
    let cred = m.credential(&m.salted_password(b"pw", b"salt", 4096), b"salt", 4096);
    let attempt = |msg: &str| {
        let c = cred.clone();
        ScramServer::new(m).client_first(
            msg.as_bytes(),
            move |u| (u == "a,b=c").then_some(c),
            "srv",
        )
    };
    assert!(attempt("n,,n=a=2Cb=3Dc,r=abc").is_ok());
    assert!(attempt("n,a=a=2Cb=3Dc,n=a=2Cb=3Dc,r=abc").is_ok());
    for bad in [
        "n,,n=alice,r=abc",                // unknown user
        "p=tls-unique,,n=a=2Cb=3Dc,r=abc", // channel binding asked
        "n,a=other,n=a=2Cb=3Dc,r=abc",     // authzid of someone else
        "n,,n=a=2Xb,r=abc",                // bad saslname escape
        "n,,n=a=2Cb=3Dc,r=",               // empty nonce
        "n,,n=a=2Cb=3Dc,r=abc,tokenauth=true",
        "n,,r=abc",
        "garbage",
        "",
    ] {
        assert!(attempt(bad).is_err(), "{bad}");
    }
    assert!(ScramServer::new(m).client_first(&[0xff, 0xfe], |_| None, "x").is_err());
}

#[test]
fn base64_round_trips_and_refuses_non_canonical_text() {
    for n in 0..40 {
        let data: Vec<u8> = (0..n as u8).map(|i| i.wrapping_mul(37)).collect();
        assert_eq!(base64::decode(&base64::encode(&data)).unwrap(), data);
    }
    assert_eq!(base64::encode(b"foobar"), "Zm9vYmFy");
    assert_eq!(base64::encode(b"fo"), "Zm8=");
    for bad in ["Zm8", "Zm9=", "Z===", "Zm=8", "Zm8=Zm8=", "Zm!="] {
        assert_eq!(base64::decode(bad), None, "{bad}");
    }
}

#[test]
fn constant_time_eq_compares_whole_slices() {
    assert!(super::constant_time_eq(b"abc", b"abc"));
    assert!(!super::constant_time_eq(b"abc", b"abd"));
    assert!(!super::constant_time_eq(b"abc", b"ab"));
}
