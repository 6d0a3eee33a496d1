"""The Label Studio SDK with coder's messages: a stopped server or a refused key is one clear line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from coder.errors import InputError
from coder.labelstudio.state import connection


class Client:
    """The Label Studio SDK with coder's messages: a stopped server or a refused key is one clear line."""

    def __init__(self, url: str | None = None, api_key: str | None = None) -> None:
        if url is None or api_key is None:
            env_url, env_key = connection()
            url, api_key = url or env_url, api_key or env_key
        from label_studio_sdk import LabelStudio

        self.url = url.rstrip("/")
        self.ls = LabelStudio(base_url=self.url, api_key=api_key, timeout=120)

    def call(self, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        import httpx
        from label_studio_sdk.core.api_error import ApiError

        try:
            return fn(*args, **kwargs)
        except httpx.ConnectError:
            raise InputError(f"Label Studio is not running at {self.url} (connection refused while {what}): "
                             f"start it with `coder review server start`") from None
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.TimeoutException) as e:
            raise InputError(f"Label Studio at {self.url} stopped answering while {what} "
                             f"({type(e).__name__}); re-run when it is up: nothing is duplicated") from None
        except ApiError as e:
            detail = _api_detail(e.body)
            if e.status_code == 401:
                hint = ""
                if "legacy" in detail.lower():
                    hint = (" (this server has legacy tokens disabled: use a personal access token, or "
                            "enable legacy tokens under Organization -> API Tokens Settings)")
                raise InputError(f"Label Studio at {self.url} refused the API key (401: {detail}){hint}; "
                                 f"check LABEL_STUDIO_API_KEY, or unset it to use the key "
                                 f"`coder review server start` recorded") from None
            raise InputError(f"Label Studio at {self.url} answered {e.status_code} while {what}: "
                             f"{detail}") from None

    def whoami(self) -> Any:
        return self.call("checking the API key", self.ls.users.whoami)


def _api_detail(body: object) -> str:
    if isinstance(body, dict):
        for k in ("detail", "validation_errors", "message"):
            if k in body:
                return str(body[k])[:500]
    return str(body)[:500]


def invite_url(client: Client | None = None) -> str:
    """A sign-up link for another reviewer (each reviewer gets their own account, so `who` is known)."""
    client = client or Client()
    invite = client.call("asking for an invite link", client.ls.organizations.invites.get_invite_link)
    link = str(invite.invite_url or "")
    return f"{client.url}{link}" if link.startswith("/") else link
