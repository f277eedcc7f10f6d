"""Amazon SNS: parsing HTTP(S) messages, verifying their signatures, confirming subscriptions."""
