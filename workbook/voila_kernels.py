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

from jupyter_server.services.kernels.kernelmanager import ServerKernelManager

from workbook.kernels import ForkingLaunch, ZygoteProvisioner


class AppProvisioner(ZygoteProvisioner):  # type: ignore[misc]
    """Kernels forked from the zygote that has also built the personal-data detector
    (:data:`workbook.kernels.APP_PRELOAD`)."""

    zygote_kind = "app"


class ForkingServerKernelManager(ForkingLaunch, ServerKernelManager):  # type: ignore[misc]
    """jupyter_server's kernel manager, launching through the zygote where it can."""

    provisioner_class = AppProvisioner
