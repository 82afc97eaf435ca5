#!/usr/bin/env python3
"""Verifies a gaic result credential without gaic: the Ed25519 signature over
the exact payload bytes the file carries (base64), the credential id (the
payload's SHA-256), and that the readable copy says what was signed.

    python3 scripts/verify_credential.py FILE --public-key KEY
    python3 scripts/verify_credential.py FILE --server https://gaic.example

With --server the key is fetched by the id the credential names, from
SERVER/.well-known/gaic-credential-key, and the server is asked whether the
credential was revoked. Needs the `cryptography` package (pip install
cryptography). Exit codes: 0 valid, 2 not valid, 3 revoked, 1 an error.
"""

import argparse
import base64
import hashlib
import json
import sys
import urllib.request

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

FORMAT = "gaic-credential/2"


def fetch(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.load(r)


def check(cred, public_key_b64):
    """The signed statement, or raises ValueError saying why not."""
    if cred.get("format") != FORMAT:
        raise ValueError(f"the format is {cred.get('format')!r}, not {FORMAT}")
    payload = base64.b64decode(cred["payload"], validate=True)
    signature = base64.b64decode(cred["signature"], validate=True)
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64, validate=True))
    try:
        key.verify(signature, payload)
    except InvalidSignature:
        raise ValueError("the signature does not match: the credential was changed or signed by another key")
    if hashlib.sha256(payload).hexdigest() != cred["credential_id"]:
        raise ValueError("the credential id is not the payload's SHA-256")
    stated = json.loads(payload)
    if stated.get("key_id") != cred.get("key_id"):
        raise ValueError("the key id beside the payload differs from the signed one")
    if stated != cred.get("credential"):
        raise ValueError("the readable credential differs from the signed payload")
    return stated


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file")
    ap.add_argument("--public-key", help="the issuer's public key, base64")
    ap.add_argument("--server", help="the issuer's URL: fetch the key and check revocation")
    args = ap.parse_args()
    try:
        with open(args.file, encoding="utf-8") as f:
            cred = json.load(f)
        key = args.public_key
        server = args.server.rstrip("/") if args.server else None
        if key is None:
            if server is None:
                print("error: pass --public-key KEY or --server URL", file=sys.stderr)
                return 1
            keys = fetch(f"{server}/.well-known/gaic-credential-key")["keys"]
            match = [k for k in keys if k["key_id"] == cred.get("key_id")]
            if not match:
                print(f"NOT valid: the issuer has no key {cred.get('key_id')}")
                return 2
            key = match[0]["public_key"]
        try:
            c = check(cred, key)
        except (ValueError, KeyError, TypeError) as e:
            print(f"NOT valid: {e}")
            return 2
        line = f"{c['display_name']} ({c['username']}) ranked {c['rank']} of {c['of']} in {c['task']} with {c['metric']} {c['private_score']}"
        if server is None:
            print(f"valid: {line}; revocation not checked (no server)")
            return 0
        status = fetch(f"{server}/api/v1/credentials/{cred['credential_id']}")
        if status.get("status") == "revoked":
            print(f"REVOKED: {line}; {status.get('reason')}")
            return 3
        print(f"valid: {line}; not revoked")
        return 0
    except (OSError, json.JSONDecodeError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
