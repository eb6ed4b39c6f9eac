#!/usr/bin/env python3
"""A real, third-party SMTP server (aiosmtpd) on loopback that reads every
message it receives with Python's MIME parser and says what it found.

Used by the server's integration tests (server/tests/it/real_smtp.rs): the
test starts it, reads the port from the first line of stdout, points Muster's
MUSTER_SMTP_* at it, and reads one JSON verdict per received message from the
following lines. It stops when its stdin closes (the test ended or died).

Each verdict lists what was parsed (headers decoded, both bodies, links) and
"problems": everything that a mail client or a receiving server would take
badly. A message is clean when "problems" is empty.

Usage:
  smtp_verifier.py --base-url URL [--dkim-txt "v=DKIM1; k=rsa; p=..."
                   --dkim-selector S --dkim-domain D]

With the DKIM options every message must carry a DKIM signature that
dkim.verify accepts, with the given record standing in for DNS (no lookup
leaves the machine), and two tampered copies of it must fail verification.
"""

import argparse
import asyncio
import email
import email.policy
import email.utils
import html.parser
import json
import re
import sys

from aiosmtpd.smtp import SMTP

try:
    import dkim
except ImportError:  # only needed with --dkim-txt
    dkim = None

# RFC 5322 3.6.4: msg-id = "<" id-left "@" id-right ">", both dot-atom-text
# here (Muster never writes the obsolete or literal forms).
ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
DOT_ATOM = rf"{ATEXT}(?:\.{ATEXT})*"
MESSAGE_ID = re.compile(rf"^<{DOT_ATOM}@{DOT_ATOM}>$")
TEXT_URL = re.compile(r"https?://[^\s<>\"')\]]+")
# Headers a message must carry exactly once (RFC 5322 3.6 requires From and
# Date; the rest are what Muster always sends).
ONCE = ["From", "To", "Date", "Message-ID", "Subject", "MIME-Version"]
# What a DKIM signature must cover for a receiver to trust what it shows.
MUST_SIGN = ["from", "to", "subject", "date", "message-id"]


class Links(html.parser.HTMLParser):
    """Every href and src in an HTML document, and whether it declares UTF-8."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links = []
        self.meta_charset = None

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src") and value is not None:
                self.links.append(value)
            if tag == "meta" and name == "charset":
                self.meta_charset = value


def raw_sections(raw):
    head, _, body = raw.partition(b"\r\n\r\n")
    return head, body


def check_raw(raw, problems):
    """What the bytes on the wire must respect, before any parsing."""
    head, _ = raw_sections(raw)
    if b"\r\n\r\n" not in raw:
        problems.append("no blank line between the header and the body")
    if any(byte > 127 for byte in head):
        # The server did not offer SMTPUTF8: every header must be ASCII, with
        # non-ASCII text in RFC 2047 encoded words.
        problems.append("8-bit bytes in the header (non-ASCII not encoded)")
    without_crlf = raw.replace(b"\r\n", b"")
    if b"\r" in without_crlf or b"\n" in without_crlf:
        problems.append("a bare CR or LF (lines must end with CRLF)")
    longest = max((len(line) for line in raw.split(b"\r\n")), default=0)
    if longest > 998:
        problems.append(f"a line of {longest} octets (RFC 5322 allows 998)")


def check_headers(msg, envelope, problems, seen_ids, verdict):
    for name in ONCE:
        count = len(msg.get_all(name, []))
        if count != 1:
            problems.append(f"{name} appears {count} times (expected once)")
    for name, value in msg.items():
        for defect in getattr(value, "defects", ()):
            problems.append(f"header {name}: {type(defect).__name__}: {defect}")

    if msg.get("MIME-Version", "").strip() != "1.0":
        problems.append(f"MIME-Version is {msg.get('MIME-Version')!r}")

    sender = msg.get("From")
    if sender is not None:
        addresses = sender.addresses
        if len(addresses) != 1:
            problems.append(f"From names {len(addresses)} mailboxes")
        else:
            verdict["from_name"] = addresses[0].display_name
            verdict["from_address"] = addresses[0].addr_spec
            if envelope.mail_from != addresses[0].addr_spec:
                problems.append(
                    f"envelope sender {envelope.mail_from!r} is not the From "
                    f"address {addresses[0].addr_spec!r}"
                )

    to = msg.get("To")
    if to is not None:
        verdict["to"] = [a.addr_spec for a in to.addresses]
        verdict["to_names"] = [a.display_name for a in to.addresses]
        if sorted(a.lower() for a in verdict["to"]) != sorted(
            r.lower() for r in envelope.rcpt_tos
        ):
            problems.append(
                f"To {verdict['to']} is not the envelope's recipients {envelope.rcpt_tos}"
            )

    date = msg.get("Date")
    if date is not None:
        when = date.datetime
        if when is None:
            problems.append(f"Date {str(date)!r} does not parse")
        elif when.tzinfo is None or when.utcoffset() is None:
            problems.append(f"Date {str(date)!r} has no time zone")
        else:
            verdict["date"] = when.isoformat()

    message_id = msg.get("Message-ID")
    if message_id is not None:
        value = str(message_id).strip()
        verdict["message_id"] = value
        if not MESSAGE_ID.match(value):
            problems.append(f"Message-ID {value!r} is not <left@right>")
        if value in seen_ids:
            problems.append(f"Message-ID {value} was already used by another message")
        seen_ids.add(value)

    subject = msg.get("Subject")
    if subject is not None:
        decoded = str(subject)
        verdict["subject"] = decoded
        raw_value = subject_raw(msg)
        # Whether it reads back as meant is for the caller, who knows what
        # was meant (a subject may hold "=?" on purpose).
        if not decoded.isascii() and "=?" not in raw_value:
            problems.append("non-ASCII Subject without RFC 2047 encoding")


def subject_raw(msg):
    for name, value in msg.raw_items():
        if name.lower() == "subject":
            return value
    return ""


def check_parts(msg, envelope, problems, verdict):
    verdict["content_type"] = msg.get_content_type()
    if msg.get_content_type() != "multipart/alternative":
        problems.append(f"the message is {msg.get_content_type()}, not multipart/alternative")
        return
    parts = list(msg.iter_parts())
    verdict["parts"] = [p.get_content_type() for p in parts]
    if verdict["parts"] != ["text/plain", "text/html"]:
        # RFC 2046 5.1.4: the last alternative is the preferred one.
        problems.append(f"the alternatives are {verdict['parts']}, not text/plain then text/html")
    bodies = {}
    for part in parts:
        kind = part.get_content_type()
        for defect in part.defects:
            problems.append(f"{kind}: {type(defect).__name__}: {defect}")
        charset = part.get_content_charset()
        if charset != "utf-8":
            problems.append(f"{kind} has charset {charset!r}, not utf-8")
        encoding = part.get("Content-Transfer-Encoding", "7bit").strip().lower()
        if encoding not in ("7bit", "8bit", "quoted-printable", "base64"):
            problems.append(f"{kind} has Content-Transfer-Encoding {encoding!r}")
        payload = part.get_payload(decode=False)
        if isinstance(payload, str) and not payload.isascii():
            if encoding != "8bit":
                problems.append(f"{kind}: 8-bit bytes with Content-Transfer-Encoding {encoding}")
            elif "BODY=8BITMIME" not in [o.upper() for o in envelope.mail_options]:
                problems.append(f"{kind} is 8bit but MAIL FROM did not say BODY=8BITMIME")
        try:
            bodies[kind] = part.get_payload(decode=True).decode("utf-8")
        except UnicodeDecodeError as error:
            problems.append(f"{kind} is not valid UTF-8: {error}")
    verdict["text"] = bodies.get("text/plain")
    verdict["html"] = bodies.get("text/html")


def check_links(base_url, problems, verdict):
    text, page = verdict.get("text"), verdict.get("html")
    text_links = TEXT_URL.findall(text or "")
    parser = Links()
    if page is not None:
        parser.feed(page)
        parser.close()
        if parser.meta_charset is not None and parser.meta_charset.lower() != "utf-8":
            problems.append(f"the HTML declares charset {parser.meta_charset!r}")
    if text is not None and re.search(r"&(amp|lt|gt|quot|#\d+);", text):
        problems.append("HTML entities in the plain text part")
    links = sorted(set(text_links) | set(parser.links))
    verdict["links"] = links
    for link in links:
        if not link.isascii() or any(c.isspace() for c in link):
            problems.append(f"link {link!r} has characters a URL cannot hold")
        if not (link == base_url or link.startswith(base_url + "/")):
            problems.append(f"link {link!r} is not an absolute link on {base_url}")
    if set(text_links) != set(parser.links):
        problems.append(
            f"the text part links {sorted(set(text_links))} but the HTML part "
            f"{sorted(set(parser.links))}"
        )


def tamper_body(raw):
    """The message with one character of its body changed."""
    head, body = raw_sections(raw)
    for old, new in ((b"e", b"E"), (b"a", b"A"), (b"o", b"O")):
        if old in body:
            return head + b"\r\n\r\n" + body.replace(old, new, 1)
    return head + b"\r\n\r\n" + body + b"tampered\r\n"


def tamper_subject(raw):
    """The message with its Subject replaced."""
    head, body = raw_sections(raw)
    lines = head.split(b"\r\n")
    out, skipping = [], False
    for line in lines:
        if skipping and line[:1] in (b" ", b"\t"):
            continue
        skipping = line.lower().startswith(b"subject:")
        out.append(b"Subject: Please pay this invoice" if skipping else line)
    return b"\r\n".join(out) + b"\r\n\r\n" + body


def check_dkim(raw, msg, options, problems, verdict):
    if options.dkim_txt is None:
        verdict["dkim"] = None
        return
    record = options.dkim_txt.encode()
    expected = f"{options.dkim_selector}._domainkey.{options.dkim_domain}.".encode()
    lookups = []

    def dnsfunc(name, timeout=5):
        # Stands in for DNS: only the test's own record, at its own name.
        lookups.append(name)
        return record if name == expected else None

    result = {"signed": False, "verified": False}
    verdict["dkim"] = result
    signatures = msg.get_all("DKIM-Signature", [])
    if len(signatures) != 1:
        problems.append(f"{len(signatures)} DKIM-Signature headers (expected one)")
        return
    result["signed"] = True
    tags = {}
    for item in re.sub(r"\s+", "", str(signatures[0])).split(";"):
        if "=" in item:
            key, _, value = item.partition("=")
            tags[key] = value
    result["domain"] = tags.get("d")
    result["selector"] = tags.get("s")
    result["algorithm"] = tags.get("a")
    result["canonicalization"] = tags.get("c")
    result["headers"] = tags.get("h", "").lower().split(":")
    if tags.get("d") != options.dkim_domain or tags.get("s") != options.dkim_selector:
        problems.append(f"DKIM d={tags.get('d')} s={tags.get('s')}, expected "
                        f"d={options.dkim_domain} s={options.dkim_selector}")
    for name in MUST_SIGN:
        if name not in result["headers"]:
            problems.append(f"the DKIM signature does not cover {name}")
    result["verified"] = bool(dkim.verify(raw, dnsfunc=dnsfunc))
    if not result["verified"]:
        problems.append("dkim.verify failed")
    if expected not in lookups:
        problems.append(f"dkim.verify never looked up {expected.decode()}")
    # The check itself must be able to fail: a changed body or a changed
    # signed header must not verify.
    result["tampered_body_verifies"] = bool(dkim.verify(tamper_body(raw), dnsfunc=dnsfunc))
    result["tampered_subject_verifies"] = bool(
        dkim.verify(tamper_subject(raw), dnsfunc=dnsfunc)
    )
    if result["tampered_body_verifies"] or result["tampered_subject_verifies"]:
        problems.append("a tampered copy of the message still verifies")


def verdict_for(raw, envelope, options, seen_ids):
    problems = []
    verdict = {
        "envelope_from": envelope.mail_from,
        "envelope_to": list(envelope.rcpt_tos),
        "problems": problems,
    }
    check_raw(raw, problems)
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    for defect in msg.defects:
        problems.append(f"message: {type(defect).__name__}: {defect}")
    check_headers(msg, envelope, problems, seen_ids, verdict)
    check_parts(msg, envelope, problems, verdict)
    check_links(options.base_url, problems, verdict)
    check_dkim(raw, msg, options, problems, verdict)
    return verdict


class Handler:
    def __init__(self, options):
        self.options = options
        self.seen_ids = set()

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content
        try:
            verdict = verdict_for(raw, envelope, self.options, self.seen_ids)
        except Exception as error:  # a verifier bug is a problem too, not a hang
            verdict = {
                "envelope_from": envelope.mail_from,
                "envelope_to": list(envelope.rcpt_tos),
                "problems": [f"the verifier failed: {type(error).__name__}: {error}"],
            }
        print(json.dumps(verdict, ensure_ascii=False), flush=True)
        return "250 OK: verified"


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--dkim-txt")
    parser.add_argument("--dkim-selector")
    parser.add_argument("--dkim-domain")
    options = parser.parse_args()
    options.base_url = options.base_url.rstrip("/")
    if options.dkim_txt is not None:
        if dkim is None:
            sys.exit("dkimpy is not installed (python3 -m pip install --user dkimpy)")
        if not (options.dkim_selector and options.dkim_domain):
            sys.exit("--dkim-txt needs --dkim-selector and --dkim-domain")
    handler = Handler(options)
    loop = asyncio.get_running_loop()
    # aiosmtpd's SMTP protocol on a port the system picks (no race for a
    # free port). It offers 8BITMIME but not SMTPUTF8, like many servers.
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="verifier.test"), "127.0.0.1", 0
    )
    port = server.sockets[0].getsockname()[1]
    print(json.dumps({"port": port}), flush=True)
    # Until the test closes our stdin (or dies).
    await loop.run_in_executor(None, sys.stdin.buffer.read)
    server.close()
    await server.wait_closed()


if __name__ == "__main__":
    asyncio.run(main())
