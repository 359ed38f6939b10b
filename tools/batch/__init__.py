"""Batch analysis of many media files on Ray Data (``mien batch``): one task per file, resumable results."""

from tools.batch.analyse import analyse_file
from tools.batch.inputs import collect_inputs
from tools.batch.runner import BatchError, parse_tools, ray_session, run_batch
from tools.batch.store import BatchBusyError, ResultStore, latest_results, read_results
from tools.batch.types import BATCH_TOOLS, DEFAULT_TOOLS, BatchReport, BatchTool, FileResult

__all__ = [
    "BATCH_TOOLS",
    "DEFAULT_TOOLS",
    "BatchBusyError",
    "BatchError",
    "BatchReport",
    "BatchTool",
    "FileResult",
    "ResultStore",
    "analyse_file",
    "collect_inputs",
    "latest_results",
    "parse_tools",
    "ray_session",
    "read_results",
    "run_batch",
]
