"""Bounces and complaints: understanding SES events and applying them to members."""
