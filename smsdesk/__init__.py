"""smsdesk: two-way SMS order notifications and a reply inbox for online stores."""

__version__ = "0.1.0"
