"""``hazmon prefecture broker DIR``: the files of the prefecture's own Mosquitto (§11), written for the operator."""

from __future__ import annotations

import argparse


def write_prefecture_broker(args: argparse.Namespace) -> int:
    """``hazmon prefecture broker DIR``: the prefecture broker's accounts (one per county, passwords kept in
    DIR/counties.json), ACL and TLS certificates for Mosquitto."""
    from hazmon.errors import UserError
    from hazmon.settings import get_settings
    from hzctl.stack.certs import ensure_certificates
    from hzctl.stack.upper_broker import county_passwords, write_upper_broker

    settings = get_settings()
    if not settings.prefecture_counties or settings.prefecture_platform_password is None:
        raise UserError("set HAZMON_PREFECTURE_COUNTIES and HAZMON_PREFECTURE_PLATFORM_PASSWORD first")
    passwords = county_passwords(args.directory / "counties.json", settings.prefecture_counties)
    tls = ensure_certificates(args.directory / "tls", ["localhost", "127.0.0.1", *args.tls_name]) if args.tls_name else None
    conf = write_upper_broker(args.directory, args.port, settings.prefecture_platform_user,
                              settings.prefecture_platform_password, passwords, host=args.host, tls=tls,
                              hash_passwords=not args.unhashed)
    print(f"{conf}\n(each county's password, to give to its platform as HAZMON_UPLINK_PASSWORD: "
          f"{args.directory / 'counties.json'})")
    return 0
