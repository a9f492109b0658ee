"""Rendering engines: IPC kernels, a warm-kernel papermill engine, parallel and Dask builds."""
