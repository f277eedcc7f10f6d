"""What maillist does with the world outside: SES's suppression list, and the digests it mails to
owners and administrators."""
