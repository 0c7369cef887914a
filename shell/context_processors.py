from licensing.roles import Role, role_of

from .navigation import navigation_for


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "user_role": None, "user_is_customer": False}
    role, items = navigation_for(user)
    matches = [item for item in items if request.path.startswith(item["url"])]
    if matches:
        max(matches, key=lambda item: len(item["url"]))["current"] = True
    return {
        "nav_items": items,
        "user_role": role,
        "user_is_customer": role_of(user) == Role.CUSTOMER,
    }
