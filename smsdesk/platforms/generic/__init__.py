"""Generic: smsdesk's own event JSON, posted by any shop's backend. It has no API to poll."""
from smsdesk.enums import Platform
from smsdesk.platforms.generic import mapping
from smsdesk.platforms.spec import PlatformSpec

SPEC = PlatformSpec(platform=Platform.GENERIC, mapping=mapping)
