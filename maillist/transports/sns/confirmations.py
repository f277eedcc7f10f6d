"""Confirming SNS subscriptions by visiting the SubscribeURL SNS sent."""

import requests

from maillist.transports.sns.errors import UpstreamError
from maillist.transports.sns.urls import check_sns_url


def confirm_subscription(message, timeout):
    """GET the message's SubscribeURL (only ever an SNS URL); raises UpstreamError on failure."""
    url = check_sns_url(message.get("SubscribeURL"), "SubscribeURL")
    try:
        response = requests.get(url, timeout=timeout, allow_redirects=False)
    except requests.RequestException as error:
        raise UpstreamError(f"confirming the subscription failed: {type(error).__name__}") from None
    if response.status_code != 200:
        raise UpstreamError(f"confirming the subscription answered HTTP {response.status_code}")
    return True
