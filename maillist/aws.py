"""boto3 clients built from the standard AWS settings, and AWS's errors as one clear line (SNS, SQS, SES).

Credentials, region and endpoint come from where every AWS tool reads them: AWS_ACCESS_KEY_ID /
AWS_SECRET_ACCESS_KEY or AWS_PROFILE, AWS_REGION (or AWS_DEFAULT_REGION), AWS_ENDPOINT_URL.
"""

import os
from contextlib import contextmanager

import boto3
from botocore.config import Config as BotoConfig
from botocore.parsers import ResponseParserError
from botocore.exceptions import (BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError,
                                 NoRegionError, PartialCredentialsError)

# Fail fast and say so: the commands that use these run in a terminal or as a service.
CLIENT_CONFIG = BotoConfig(connect_timeout=5, read_timeout=30, retries={"max_attempts": 3, "mode": "standard"})


class AwsError(Exception):
    """An AWS call failed; the message is one line a person can act on."""


def client(service):
    """A boto3 client for `service` from the standard AWS settings."""
    with plain_errors(f"connecting to {service}"):
        # botocore reads AWS_DEFAULT_REGION; AWS_REGION, which the AWS SDKs and CLI v2 read too, first.
        # A session of its own: settings are read now, not cached from an earlier call in this process.
        return boto3.session.Session().client(service, region_name=os.environ.get("AWS_REGION") or None, config=CLIENT_CONFIG)


@contextmanager
def plain_errors(doing):
    """Turn whatever boto3 raises while `doing` something into an AwsError with one clear line."""
    try:
        yield
    except NoCredentialsError:
        raise AwsError("no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE") from None
    except PartialCredentialsError as error:
        raise AwsError(f"AWS credentials are incomplete: {error}") from None
    except NoRegionError:
        raise AwsError("no AWS region: set AWS_REGION to the region of your SES identity (for example eu-west-1)") from None
    except EndpointConnectionError as error:
        raise AwsError(f"{doing}: cannot reach AWS at {error.kwargs.get('endpoint_url', '?')}") from None
    except ClientError as error:
        details = error.response.get("Error", {})
        raise AwsError(f"{doing}: AWS answered {details.get('Code', '?')}: {details.get('Message', '')}".rstrip(": ")) from None
    except BotoCoreError as error:
        raise AwsError(f"{doing}: {error}") from None
    except ResponseParserError:  # a proxy, a captive portal or a stand-in answered where AWS should have
        raise AwsError(f"{doing}: {NOT_AWS}") from None
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        if not raised_in_botocore(error):
            raise
        raise AwsError(f"{doing}: {NOT_AWS}") from None


NOT_AWS = "what answered at AWS's address is not AWS (its answer could not be read)"


def raised_in_botocore(error):
    """Whether `error` came from botocore's own code (reading an answer it did not expect), not ours."""
    frame = error.__traceback__
    while frame.tb_next is not None:
        frame = frame.tb_next
    return "/botocore/" in frame.tb_frame.f_code.co_filename


def pages(call, doing):
    """Each page of a NextToken-paged AWS call (`call(**params)`), AWS's errors as AwsError."""
    token = None
    while True:
        with plain_errors(doing):
            page = call(**({"NextToken": token} if token else {}))
        yield page
        token = page.get("NextToken")
        if not token:
            return
