"""Tables larger than memory: Parquet datasets read row group by row group.

:func:`transform_dataset` embeds a Parquet dataset into a Parquet file batch by batch;
:class:`~sklearn_tjepa.streaming.source.ParquetSource` checks and reads the files.
"""

from sklearn_tjepa.streaming.transform import transform_dataset

__all__ = ["transform_dataset"]
