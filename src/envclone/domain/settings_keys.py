"""The keys of the settings component that a clone or restore option keeps apart from the rest:
pure names, so that requests (domain), content and operations agree on them."""

MAINTENANCE_KEYS = frozenset({"maintenance_start_time", "maintenance_time_zone"})
APP_PROPERTY_KEYS = frozenset(
    {"email_notifications", "redwood_experience", "theme", "business_process_name", "logo_image", "background_image"}
)
