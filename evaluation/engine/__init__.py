"""Rendering engines: IPC kernels, a warm-kernel papermill engine, the HTML export, parallel and
Dask builds."""
