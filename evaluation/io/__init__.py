"""Reading and writing data: the package's own tables, DfE published files, NPD extracts."""

from evaluation.io.dataset import Dataset, file_hashes, read_dataset, read_table, write_dataset

__all__ = ["Dataset", "file_hashes", "read_dataset", "read_table", "write_dataset"]
