"""Checking what claims to come from WeChat: signatures, AES decryption and XML safety.

Untrusted XML is parsed only by defusedxml (no DTD, no entities, no external references), and
never by wechatpy's xmltodict: the decrypting call is handed the already-parsed envelope.
"""

from __future__ import annotations

import base64
import binascii
import struct
from collections.abc import Mapping
from enum import StrEnum
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.utils import check_signature

MAX_BODY = 64 * 1024  # real messages are a few hundred bytes; an encrypted one well under 8 KiB
MAX_FIELD = 8 * 1024


class Mode(StrEnum):
    PLAIN = "plain"
    COMPATIBLE = "compatible"  # plain fields and an Encrypt field side by side
    SAFE = "safe"  # only Encrypt, signed by msg_signature


class Refused(Exception):
    """A request that is not a valid WeChat message; `status` is the HTTP answer (4xx)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def parse_xml(raw: bytes | str) -> dict[str, str]:
    """The `<xml>` root's simple children as a dict; refuses DTDs, entities and odd shapes."""
    data = raw.encode() if isinstance(raw, str) else raw
    if len(data) > MAX_BODY:
        raise Refused(413, "body too large")
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise Refused(400, f"xml refused: {type(exc).__name__}") from None
    except (ParseError, ValueError, UnicodeError):
        raise Refused(400, "malformed xml") from None
    if root.tag != "xml":
        raise Refused(400, "root is not <xml>")
    fields: dict[str, str] = {}
    for child in root:
        if len(child) == 0:  # nested blocks (ScanCodeInfo, SendPicsInfo) are not used here
            text = child.text or ""
            if len(text) > MAX_FIELD:
                raise Refused(400, f"field too long: {child.tag}")
            fields[str(child.tag)] = text
    return fields


class Verifier:
    """Signature checks and decryption for one official account."""

    def __init__(self, token: str, mode: Mode, app_id: str = "", aes_key: str = "") -> None:
        self.token = token
        self.mode = mode
        self.app_id = app_id
        self.crypto: WeChatCrypto | None = None
        if mode != Mode.PLAIN:
            if not aes_key_ok(aes_key):
                raise ValueError("WECHAT_AES_KEY must be the 43-character EncodingAESKey")
            self.crypto = WeChatCrypto(token, aes_key, app_id)

    def check(self, query: Mapping[str, str]) -> None:
        """The plain signature (sha1 of token, timestamp, nonce) every request carries."""
        try:
            check_signature(self.token, query.get("signature", ""), query.get("timestamp", ""), query.get("nonce", ""))
        except InvalidSignatureException:
            raise Refused(403, "bad signature") from None

    def echo(self, query: Mapping[str, str]) -> str:
        """GET verification: an official account echoes `echostr` as is, in every mode."""
        self.check(query)
        return query.get("echostr", "")

    def encrypted(self, query: Mapping[str, str]) -> bool:
        return self.crypto is not None and query.get("encrypt_type", "raw") == "aes"

    def open(self, query: Mapping[str, str], body: bytes) -> dict[str, str]:
        """The message's fields, after every check its mode requires."""
        self.check(query)
        outer = parse_xml(body)
        if self.mode == Mode.SAFE and not self.encrypted(query):
            raise Refused(403, "safe mode requires an encrypted message")
        if not self.encrypted(query):
            return outer
        assert self.crypto is not None
        if "Encrypt" not in outer:
            raise Refused(400, "no Encrypt field")
        try:
            inner = self.crypto.decrypt_message(
                outer, query.get("msg_signature", ""), query.get("timestamp", ""), query.get("nonce", "")
            )
        except InvalidSignatureException:
            raise Refused(403, "bad msg_signature") from None
        except InvalidAppIdException:
            raise Refused(403, "wrong AppId") from None
        except (binascii.Error, ValueError, struct.error, IndexError, UnicodeError, TypeError):
            raise Refused(400, "undecryptable") from None
        return parse_xml(inner)

    def seal(self, xml: str, query: Mapping[str, str]) -> str:
        """A passive reply, encrypted when the request was."""
        if not self.encrypted(query) or not xml:
            return xml
        assert self.crypto is not None
        sealed: str = self.crypto.encrypt_message(xml, query.get("nonce", ""), query.get("timestamp") or None)
        return sealed


def aes_key_ok(key: str) -> bool:
    try:
        return len(key) == 43 and len(base64.b64decode(key + "=")) == 32
    except binascii.Error:
        return False
