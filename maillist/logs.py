"""Log lines that say what happened, one line each: values from outside cannot forge or split them."""

import logging
import re

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def escape_controls(text):
    """`text` with control characters (newlines included) written as escapes: \\n, \\x1b, \\u2028."""
    return CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


class OneLineFormatter(logging.Formatter):
    """Escapes control characters in the message; a traceback, which we write ourselves, stays as it is."""

    def format(self, record):
        record = logging.makeLogRecord(record.__dict__)
        record.msg, record.args = escape_controls(record.getMessage()), None
        return super().format(record)


def configure_logging(level):
    """Log to standard error at `level` with one-line messages (once per process)."""
    root = logging.getLogger()
    if not any(isinstance(handler.formatter, OneLineFormatter) for handler in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(OneLineFormatter(FORMAT))
        root.addHandler(handler)
    root.setLevel(level)
    # The AWS libraries narrate every call at INFO, flufl.bounce each of its 17 detectors per bounce
    # email; their warnings and errors still show.
    for chatty in ("boto3", "botocore", "urllib3", "flufl.bounce"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, logging.getLevelName(level) if isinstance(level, str) else level))
