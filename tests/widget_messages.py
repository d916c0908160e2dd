"""Crafted widget messages: what a person could send from their own browser to their page's
kernel, bypassing what the page shows (a disabled button clicked, a value set).

Talks the Jupyter kernel protocol over the server's websocket with the browser's cookies,
as the page's own script does: it lists the kernel's widget comms, asks each for its
state, sets a widget's state and sends a button click.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlsplit


class KernelSocket:
    """One kernel's ``/api/kernels/<id>/channels`` websocket."""

    def __init__(
        self,
        base_url: str,
        kernel_id: str,
        cookies: dict[str, str],
        headers: dict[str, str] | None = None,
    ) -> None:
        from websockets.sync.client import connect

        parts = urlsplit(base_url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        xsrf = cookies.get("_xsrf", "")
        url = (
            f"{scheme}://{parts.netloc}{parts.path.rstrip('/')}/api/kernels/{kernel_id}/channels"
            f"?session_id={uuid.uuid4().hex}" + (f"&_xsrf={quote(xsrf)}" if xsrf else "")
        )
        header = "; ".join(f"{k}={v}" for k, v in cookies.items())
        self.ws = connect(  # entered at once: closed by close()
            url,
            additional_headers={"Cookie": header, **(headers or {})},
            origin=f"{parts.scheme}://{parts.netloc}",
            max_size=2**26,
            open_timeout=30,
        ).__enter__()
        self.session = uuid.uuid4().hex

    def close(self) -> None:
        self.ws.close()

    def send(self, channel: str, msg_type: str, content: dict[str, Any]) -> str:
        msg_id = uuid.uuid4().hex
        self.ws.send(
            json.dumps(
                {
                    "header": {
                        "msg_id": msg_id,
                        "msg_type": msg_type,
                        "session": self.session,
                        "username": "",
                        "version": "5.3",
                        "date": "",
                    },
                    "parent_header": {},
                    "metadata": {},
                    "content": content,
                    "channel": channel,
                    "buffers": [],
                }
            )
        )
        return msg_id

    def wait_for(self, match: Callable[[dict[str, Any]], bool], timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                raw = self.ws.recv(timeout=max(0.1, deadline - time.monotonic()))
            except TimeoutError:
                break
            if isinstance(raw, bytes):  # binary framing: not used by these messages
                continue
            msg = json.loads(raw)
            if match(msg):
                return msg
        raise AssertionError("the kernel did not answer in time")

    def widget_states(self) -> dict[str, dict[str, Any]]:
        """Every widget's state in the kernel, by comm id."""
        ask = self.send("shell", "comm_info_request", {"target_name": "jupyter.widget"})
        reply = self.wait_for(
            lambda m: (
                m.get("msg_type") == "comm_info_reply"
                and m.get("parent_header", {}).get("msg_id") == ask
            )
        )
        states: dict[str, dict[str, Any]] = {}
        for comm_id in reply["content"].get("comms", {}):
            self.send(
                "shell", "comm_msg", {"comm_id": comm_id, "data": {"method": "request_state"}}
            )
            msg = self.wait_for(
                lambda m, c=comm_id: (
                    m.get("msg_type") == "comm_msg"
                    and m["content"].get("comm_id") == c
                    and m["content"]["data"].get("method") == "update"
                )
            )
            states[comm_id] = msg["content"]["data"]["state"]
        return states

    def set_state(self, comm_id: str, state: dict[str, Any]) -> None:
        self.send(
            "shell",
            "comm_msg",
            {"comm_id": comm_id, "data": {"method": "update", "state": state, "buffer_paths": []}},
        )

    def click(self, comm_id: str) -> None:
        self.send(
            "shell",
            "comm_msg",
            {"comm_id": comm_id, "data": {"method": "custom", "content": {"event": "click"}}},
        )


def find(states: dict[str, dict[str, Any]], **match: Any) -> str:
    """The comm id of the one widget whose state has all of ``match``."""
    found = [
        cid for cid, state in states.items() if all(state.get(k) == v for k, v in match.items())
    ]
    assert len(found) == 1, (match, len(found))
    return found[0]


def page_kernel(
    base_url: str,
    kernel_ids: list[str],
    cookies: dict[str, str],
    headers: dict[str, str] | None = None,
    **match: Any,
) -> tuple[KernelSocket, dict[str, dict[str, Any]]]:
    """The socket of the kernel holding a widget with ``match`` (the page's kernel)."""
    for kernel_id in kernel_ids:
        sock = KernelSocket(base_url, kernel_id, cookies, headers)
        states = sock.widget_states()
        if any(all(s.get(k) == v for k, v in match.items()) for s in states.values()):
            return sock, states
        sock.close()
        seen = sorted({str(s.get("description")) for s in states.values()})[:40]
    raise AssertionError(f"no kernel has a widget with {match}; saw {len(states)}: {seen}")
