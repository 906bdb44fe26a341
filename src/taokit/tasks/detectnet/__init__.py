"""DetectNet_v2: the grid detector behind PeopleNet, TrafficCamNet and DashCamNet."""
