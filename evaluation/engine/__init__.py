"""Rendering: IPC kernels, a warm-kernel papermill engine, HTML export, parallel and Dask builds."""
