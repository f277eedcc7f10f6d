"""How reports come in: the SNS webhook and SQS poller (`sns`) and bounce emails through Postfix
(`email`). Each verifies and parses in its own modules, then hands the report to maillist.intake."""
