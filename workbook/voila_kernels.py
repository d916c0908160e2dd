"""Voilà's kernels, forked from the preloaded zygote (:mod:`workbook.kernels`).

Starting an IPython kernel mostly means importing: about a CPU-second each on this
project's machines. When several people open pages at once, Voilà starts a kernel for each
of them (and refills its pool of preheated ones) while their pages are being built, so the
starts compete with the pages. A kernel forked from the zygote, which has imported all of
that once, costs a small fraction of it, and is still a new process of its own.

``workbook serve`` sets this class as the server's ``MappingKernelManager.kernel_manager_class``
(see ``voila.json``). Where forking is not possible the kernel starts the usual way.
"""

from __future__ import annotations

import uuid
from typing import Any

from jupyter_server.services.kernels.kernelmanager import ServerKernelManager

from workbook.kernels import ZygoteProvisioner, _local_provisioner


class ForkingServerKernelManager(ServerKernelManager):  # type: ignore[misc]
    """jupyter_server's kernel manager, launching through :class:`ZygoteProvisioner`."""

    async def _async_pre_start_kernel(self, **kw: Any) -> tuple[list[str], dict[str, Any]]:
        if self.provisioner is None and _local_provisioner(self.kernel_spec):
            self.kernel_id = self.kernel_id or kw.pop("kernel_id", str(uuid.uuid4()))
            self.provisioner = ZygoteProvisioner(
                kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self
            )
        return await super()._async_pre_start_kernel(**kw)
